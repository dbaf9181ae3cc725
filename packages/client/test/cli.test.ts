/** `m2m-token` run as a child process against the real reference server: flags and outputs. */
import { createPrivateKey } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type AuthorizationServer, createAuthorizationServer } from '@oauth-m2m/server'
import { decodeJwt, exportJWK, generateKeyPair, SignJWT } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { OPTIONS } from '../src/cli/arguments.js'
import { CHILD_PROCESS_TEST_TIMEOUT_MS, runCli as run, withEndpoint } from './cli-harness.js'

let as: AuthorizationServer
let issuer: string
let dir: string
const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true })
const SECRET = 'cli secret%&+:'

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'm2m-token-'))
  const jwk = await exportJWK(privateKey)
  await writeFile(join(dir, 'key.jwk.json'), JSON.stringify({ ...jwk, kid: 'cli-key' }))
  const pem = createPrivateKey({ key: jwk as never, format: 'jwk' }).export({ format: 'pem', type: 'pkcs8' })
  await writeFile(join(dir, 'key.pem'), pem)
  const publicJwk = { ...(await exportJWK(publicKey)), kid: 'cli-key', alg: 'ES256' }
  const base = { grant_types: ['client_credentials'], scope: 'read write' }
  as = await createAuthorizationServer({
    clients: [
      { client_id: 'cli-basic', client_secret: SECRET, ...base },
      {
        client_id: 'cli-key',
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [publicJwk] },
        ...base,
      },
    ],
    resources: [
      { resource: 'https://api.example.test/' },
      { resource: 'https://other.example.test/' },
      { resource: 'https://opaque.example.test/', tokenFormat: 'opaque' },
    ],
  })
  issuer = (await as.listen({ port: 0, host: '127.0.0.1' })).url
})

afterAll(async () => {
  await as?.close()
  await rm(dir, { recursive: true, force: true })
})

const SECRET_ENV = { env: { CLI_SECRET: SECRET } }
/** The client of the reference server that authenticates with the secret in CLI_SECRET. */
const BASIC_CLIENT = ['--client-id', 'cli-basic', '--client-secret-env', 'CLI_SECRET']

describe('m2m-token --help and --version', { timeout: CHILD_PROCESS_TEST_TIMEOUT_MS }, () => {
  it('lists every flag and every exit status with --help', async () => {
    const { code, stdout, stderr } = await run(['--help'])
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' })
    for (const flag of [
      '--issuer URL',
      '--token-endpoint URL',
      '--allow-insecure-http',
      '--timeout SECONDS',
      '--client-id ID',
      '--client-secret-file PATH',
      '--client-secret-stdin',
      '--client-secret-env NAME',
      '--private-key FILE',
      '--kid KID',
      '--auth-method METHOD',
      '--scope SCOPE',
      '--resource URI',
      '--audience AUDIENCE',
      '--param NAME=VALUE',
      '--cache',
      '--json',
      '--decode',
      '--version',
      '-h, --help',
    ]) {
      expect(stdout).toContain(`  ${flag}`)
    }
    // And every option the parser takes, should the list above fall behind.
    for (const name of Object.keys(OPTIONS))
      expect(stdout).toMatch(new RegExp(`\\n {2}(-\\w, )?--${name}\\b`))
    expect(stdout).toMatch(/--decode [^\n]*\n[^\n]*WITHOUT verifying its\s+signature/)
    const statuses = stdout.slice(stdout.indexOf('Exit status:'))
    for (let status = 0; status <= 8; status++) expect(statuses).toMatch(new RegExp(`\\n  ${status}  \\S`))
  })

  it('prints the version of its package.json with --version', async () => {
    const manifest = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'))
    const { code, stdout, stderr } = await run(['--version'])
    expect({ code, stdout, stderr }).toEqual({ code: 0, stdout: `${manifest.version}\n`, stderr: '' })
  })
})

describe('m2m-token prints a token', { timeout: CHILD_PROCESS_TEST_TIMEOUT_MS }, () => {
  it('prints only the access token, with the secret from the environment', async () => {
    const { code, stdout, stderr } = await run(
      ['--issuer', issuer, ...BASIC_CLIENT, '--scope', 'read'],
      SECRET_ENV,
    )
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' })
    const token = stdout.trim()
    expect(token.split('\n')).toHaveLength(1)
    expect(decodeJwt(token)).toMatchObject({ client_id: 'cli-basic', scope: 'read' })
  })

  it.each([
    ['ending with a newline', `${SECRET}\n`],
    ['ending with CRLF', `${SECRET}\r\n`],
    ['without a final newline', SECRET],
  ])('reads the secret from --client-secret-file (%s)', async (_, content) => {
    const file = join(dir, 'secret.txt')
    await writeFile(file, content, { mode: 0o600 })
    const { code, stdout, stderr } = await run([
      '--issuer',
      issuer,
      '--client-id',
      'cli-basic',
      '--client-secret-file',
      file,
    ])
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' })
    expect(decodeJwt(stdout.trim()).client_id).toBe('cli-basic')
  })

  it('reads the secret from --client-secret-stdin, dropping one final newline', async () => {
    const { code, stdout, stderr } = await run(
      ['--issuer', issuer, '--client-id', 'cli-basic', '--client-secret-stdin'],
      { stdin: `${SECRET}\n` },
    )
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' })
    expect(decodeJwt(stdout.trim()).client_id).toBe('cli-basic')
  })

  it('keeps the other characters of a secret: a final space is part of it', async () => {
    const { code, stderr } = await run(
      ['--issuer', issuer, '--client-id', 'cli-basic', '--client-secret-stdin'],
      {
        stdin: `${SECRET} \n`,
      },
    )
    expect(code).toBe(4)
    expect(stderr).toMatch(/^m2m-token: invalid_client/)
  })

  it('prints the whole answer with --json, for a --resource and repeated --scope', async () => {
    const { code, stdout } = await run(
      [
        '--token-endpoint',
        `${issuer}/token`,
        ...BASIC_CLIENT,
        '--auth-method',
        'client_secret_basic',
        '--resource',
        'https://api.example.test/',
        '--scope',
        'read',
        '--scope',
        'write',
        '--json',
      ],
      SECRET_ENV,
    )
    expect(code).toBe(0)
    const answer = JSON.parse(stdout)
    expect(answer).toMatchObject({ token_type: 'Bearer', expires_in: 3600 })
    const claims = decodeJwt(answer.access_token)
    expect(claims.aud).toBe('https://api.example.test/')
    expect(String(claims.scope).split(' ').sort()).toEqual(['read', 'write'])
  })

  it('adds expires_at (epoch seconds) to the whole answer with --json', async () => {
    const before = Math.floor(Date.now() / 1000)
    const { code, stdout, stderr } = await run(['--issuer', issuer, ...BASIC_CLIENT, '--json'], SECRET_ENV)
    const after = Math.ceil(Date.now() / 1000)
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' })
    const answer = JSON.parse(stdout)
    expect(Object.keys(answer)).toEqual(expect.arrayContaining(['access_token', 'expires_in', 'expires_at']))
    expect(Number.isInteger(answer.expires_at)).toBe(true)
    expect(answer.expires_at).toBeGreaterThanOrEqual(before + 3600 - 1)
    expect(answer.expires_at).toBeLessThanOrEqual(after + 3600)
  })

  it.each([[[]], [['--json']]])(
    'prints the header and claims of the JWT with --decode %j, never its signature',
    async (extra) => {
      const { code, stdout, stderr } = await run(
        [
          '--issuer',
          issuer,
          ...BASIC_CLIENT,
          '--scope',
          'read',
          '--resource',
          'https://api.example.test/',
          '--decode',
          ...extra,
        ],
        SECRET_ENV,
      )
      expect({ code, stderr }).toEqual({ code: 0, stderr: '' })
      const decoded = JSON.parse(stdout)
      expect(Object.keys(decoded)).toEqual(['header', 'claims'])
      expect(decoded.header).toMatchObject({ typ: 'at+jwt', alg: 'ES256' })
      expect(decoded.claims).toMatchObject({
        client_id: 'cli-basic',
        scope: 'read',
        aud: 'https://api.example.test/',
      })
    },
  )

  it.each(['key.jwk.json', 'key.pem'])('signs private_key_jwt with the key in %s', async (file) => {
    const { code, stdout, stderr } = await run([
      '--issuer',
      issuer,
      '--client-id',
      'cli-key',
      '--private-key',
      join(dir, file),
      '--kid',
      'cli-key',
    ])
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' })
    expect(decodeJwt(stdout.trim()).client_id).toBe('cli-key')
  })

  it('uses an http: token endpoint on a docker-compose style host with --allow-insecure-http', async () => {
    const port = new URL(issuer).port
    const endpoint = `http://auth-server:${port}/token`
    const refused = await run(['--token-endpoint', endpoint, ...BASIC_CLIENT], {
      ...SECRET_ENV,
      resolveAuthServer: true,
    })
    expect(refused.code).toBe(3)
    expect(refused.stdout).toBe('')
    expect(refused.stderr).toMatch(
      /^m2m-token: --token-endpoint is http: to auth-server, which is not loopback: .*--allow-insecure-http/,
    )
    const allowed = await run(['--token-endpoint', endpoint, ...BASIC_CLIENT, '--allow-insecure-http'], {
      ...SECRET_ENV,
      resolveAuthServer: true,
    })
    expect({ code: allowed.code, stderr: allowed.stderr }).toEqual({ code: 0, stderr: '' })
    expect(decodeJwt(allowed.stdout.trim()).client_id).toBe('cli-basic')
  })
})

describe('m2m-token against a token endpoint that records what it is sent', {
  timeout: CHILD_PROCESS_TEST_TIMEOUT_MS,
}, () => {
  it('sends every --audience and --param, and --decode prints a JWT without its signature', async () => {
    const forms: URLSearchParams[] = []
    const accessToken = await new SignJWT({ scope: 'read', azp: 'cli-basic' })
      .setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid: 'k1' })
      .setIssuer('https://tenant.example.test/')
      .setAudience('https://api.example.test')
      .setExpirationTime('1h')
      .sign(privateKey)
    await withEndpoint(
      (raw, _req, res) => {
        forms.push(new URLSearchParams(raw))
        res
          .writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' })
          .end(JSON.stringify({ access_token: accessToken, token_type: 'Bearer', expires_in: 86400 }))
      },
      async (url) => {
        const { code, stdout, stderr } = await run(
          [
            '--token-endpoint',
            url,
            ...BASIC_CLIENT,
            '--audience',
            'https://api.example.test',
            '--audience',
            'urn:orders',
            '--param',
            'organization=org_123',
            '--param',
            'note=a=b',
            '--decode',
          ],
          SECRET_ENV,
        )
        expect({ code, stderr }).toEqual({ code: 0, stderr: '' })
        expect(forms).toHaveLength(1)
        expect(forms[0]!.getAll('audience')).toEqual(['https://api.example.test', 'urn:orders'])
        expect(forms[0]!.get('organization')).toBe('org_123')
        expect(forms[0]!.get('note')).toBe('a=b')
        expect(JSON.parse(stdout)).toEqual({
          header: { alg: 'ES256', typ: 'JWT', kid: 'k1' },
          claims: decodeJwt(accessToken),
        })
        expect(stdout).not.toContain(accessToken.split('.')[2])
      },
    )
  })
})

describe('m2m-token against a token endpoint that resets its first connection', {
  timeout: CHILD_PROCESS_TEST_TIMEOUT_MS,
}, () => {
  it('waits for the retry and prints the token (the retry wait keeps the process alive)', async () => {
    let requests = 0
    await withEndpoint(
      (_body, req, res) => {
        requests++
        // Drops the connection without an answer: a network error the client retries after a backoff.
        if (requests === 1) {
          req.socket.destroy()
          return
        }
        res
          .writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' })
          .end(JSON.stringify({ access_token: 'second-try-token', token_type: 'Bearer', expires_in: 300 }))
      },
      async (url) => {
        const { code, stdout, stderr } = await run(['--token-endpoint', url, ...BASIC_CLIENT], SECRET_ENV)
        expect({ code, stdout, stderr }).toEqual({ code: 0, stdout: 'second-try-token\n', stderr: '' })
        expect(requests).toBe(2)
      },
    )
  })
})

describe('m2m-token against a server that echoes the credentials it was sent', {
  timeout: CHILD_PROCESS_TEST_TIMEOUT_MS,
}, () => {
  it.each([
    ['client_secret_basic', []],
    ['client_secret_post', []],
    ['client_secret_jwt', []],
    ['client_secret_basic', ['--json']],
    ['client_secret_jwt', ['--json']],
  ])('keeps them out of stderr with %s %j', async (method, extra) => {
    const sent: string[] = []
    const secret = 'cli-secret-echoed-42"\\'
    await withEndpoint(
      (raw, req, res) => {
        const authorization = req.headers.authorization ?? ''
        const form = new URLSearchParams(raw)
        const echoed =
          form.get('client_secret') ??
          decodeURIComponent(
            Buffer.from(authorization.slice('Basic '.length), 'base64').toString().split(':')[1] ?? '',
          )
        const assertion = form.get('client_assertion') ?? ''
        sent.push(raw, authorization, assertion)
        res.writeHead(401, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            error: 'invalid_client',
            error_description: `wrong secret ${echoed} (${authorization}) ${assertion} ${raw}`,
            error_uri: `https://as.example.test/e?${raw}`,
          }),
        )
      },
      async (url) => {
        const { code, stdout, stderr } = await run(
          ['--token-endpoint', url, ...BASIC_CLIENT, '--auth-method', method, ...extra],
          { env: { CLI_SECRET: secret } },
        )
        expect(code).toBe(4)
        expect(stdout).toBe('')
        expect(stderr).toMatch(/invalid_client.*wrong secret .*\[redacted\]/)
        for (const form of [secret, JSON.stringify(secret).slice(1, -1), encodeURIComponent(secret)]) {
          expect(stderr).not.toContain(form)
        }
        const assertion = sent[2]!
        for (const part of [sent[1]!.slice('Basic '.length), assertion, ...assertion.split('.').slice(1)]) {
          if (part !== '') expect(stderr).not.toContain(part)
        }
      },
    )
  })
})
