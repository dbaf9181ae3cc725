/** `m2m-token` run as a child process against the real reference server. */
import { execFile } from 'node:child_process'
import { createPrivateKey } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type AuthorizationServer, createAuthorizationServer } from '@oauth-m2m/server'
import { decodeJwt, exportJWK, generateKeyPair, SignJWT } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const CLI = fileURLToPath(new URL('../src/cli.ts', import.meta.url))
const ROOT = fileURLToPath(new URL('../../../', import.meta.url))

let as: AuthorizationServer
let issuer: string
let dir: string
const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true })

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
      { client_id: 'cli-basic', client_secret: 'cli secret%&+:', ...base },
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

interface Run {
  code: number
  stdout: string
  stderr: string
}

function run(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--conditions=@oauth-m2m/source', '--import', 'tsx', CLI, ...args],
      { cwd: ROOT, env: { ...process.env, ...env }, timeout: 20_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0
        resolve({ code, stdout, stderr })
      },
    )
  })
}

const SECRET_ENV = { CLI_SECRET: 'cli secret%&+:' }
/** The client of the reference server that authenticates with the secret in CLI_SECRET. */
const BASIC_CLIENT = ['--client-id', 'cli-basic', '--client-secret-env', 'CLI_SECRET']

/** Answers one request, given its whole body. */
type EndpointListener = (body: string, req: IncomingMessage, res: ServerResponse) => void

/** Runs `use` with a token endpoint on a free loopback port that answers with `listener`. */
async function withEndpoint(listener: EndpointListener, use: (url: string) => Promise<void>): Promise<void> {
  const endpoint = createServer((req, res) => {
    let body = ''
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString()
    })
    req.on('end', () => listener(body, req, res))
  })
  await new Promise<void>((resolve) => endpoint.listen(0, '127.0.0.1', resolve))
  try {
    await use(`http://127.0.0.1:${(endpoint.address() as AddressInfo).port}/token`)
  } finally {
    endpoint.closeAllConnections()
    await new Promise((resolve) => endpoint.close(resolve))
  }
}

describe('m2m-token', () => {
  it('prints its usage with --help', async () => {
    const { code, stdout } = await run(['--help'])
    expect(code).toBe(0)
    expect(stdout).toMatch(/--client-secret-env NAME/)
    for (const flag of ['--audience AUDIENCE', '--param NAME=VALUE', '--json', '--decode']) {
      expect(stdout).toContain(flag)
    }
    expect(stdout).toMatch(/3 when --decode was asked for/)
  })

  it('prints only the access token, with the secret from the environment', async () => {
    const { code, stdout, stderr } = await run(
      [
        '--issuer',
        issuer,
        '--client-id',
        'cli-basic',
        '--client-secret-env',
        'CLI_SECRET',
        '--scope',
        'read',
      ],
      SECRET_ENV,
    )
    expect(stderr).toBe('')
    expect(code).toBe(0)
    const token = stdout.trim()
    expect(token.split('\n')).toHaveLength(1)
    expect(decodeJwt(token)).toMatchObject({ client_id: 'cli-basic', scope: 'read' })
  })

  it('prints the whole answer with --json, for a --resource and repeated --scope', async () => {
    const { code, stdout } = await run(
      [
        '--token-endpoint',
        `${issuer}/token`,
        '--client-id',
        'cli-basic',
        '--client-secret-env',
        'CLI_SECRET',
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

  it('prints the header and claims of the JWT with --decode, never its signature', async () => {
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
  })

  it('exits 3 with a message on stderr when --decode meets an opaque token', async () => {
    const { code, stdout, stderr } = await run(
      ['--issuer', issuer, ...BASIC_CLIENT, '--resource', 'https://opaque.example.test/', '--decode'],
      SECRET_ENV,
    )
    expect(code).toBe(3)
    expect(stdout).toBe('')
    expect(stderr).toBe(
      'm2m-token: the access token is not a signed JWT (it is opaque or encrypted): nothing to decode\n',
    )
  })

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
    expect(stderr).toBe('')
    expect(code).toBe(0)
    expect(decodeJwt(stdout.trim()).client_id).toBe('cli-key')
  })

  it('sends every repeated --resource (this server allows one per token and says so)', async () => {
    const { code, stdout, stderr } = await run(
      [
        '--issuer',
        issuer,
        '--client-id',
        'cli-basic',
        '--client-secret-env',
        'CLI_SECRET',
        '--resource',
        'https://api.example.test/',
        '--resource',
        'https://other.example.test/',
      ],
      SECRET_ENV,
    )
    expect(code).toBe(1)
    expect(stdout).toBe('')
    expect(stderr).toMatch(/^m2m-token: invalid_target: .*one resource/)
  })

  it('exits 1 with the OAuth error when the server refuses', async () => {
    const { code, stdout, stderr } = await run(
      ['--issuer', issuer, '--client-id', 'cli-basic', '--client-secret-env', 'CLI_SECRET'],
      { CLI_SECRET: 'wrong' },
    )
    expect(code).toBe(1)
    expect(stdout).toBe('')
    expect(stderr).toMatch(/^m2m-token: invalid_client/)
    expect(stderr).not.toContain('wrong')
  })

  it('refuses a secret on the command line', async () => {
    const { code, stderr } = await run(['--issuer', issuer, '--client-id', 'x', '--client-secret', 'oops'])
    expect(code).toBe(2)
    expect(stderr).toMatch(/never taken from the command line/)
    expect(stderr).not.toContain('oops')
  })

  it.each<[string[], RegExp]>([
    [['--client-id', 'x', '--client-secret-env', 'CLI_SECRET'], /give --issuer or --token-endpoint/],
    [['--issuer', 'https://as.example.test', '--client-secret-env', 'CLI_SECRET'], /give --client-id/],
    [
      ['--issuer', 'https://as.example.test', '--client-id', 'x', '--client-secret-env', 'UNSET_VAR_123'],
      /UNSET_VAR_123 is not set/,
    ],
    [
      [
        '--issuer',
        'https://as.example.test',
        '--client-id',
        'x',
        '--auth-method',
        'magic',
        '--client-secret-env',
        'CLI_SECRET',
      ],
      /unknown --auth-method magic/,
    ],
    [['--bogus'], /Unknown option/],
    ...(
      [
        [['--param', 'scope=read'], /--param cannot set scope: use --scope/],
        [['--param', 'audience=x'], /--param cannot set audience: use --audience/],
        [['--param', 'client_secret=x'], /--param cannot set client_secret: m2m-token sets it itself/],
        [['--param', 'grant_type=password'], /--param cannot set grant_type/],
        [['--param', 'novalue'], /--param takes NAME=VALUE/],
        [['--param', '=x'], /--param takes NAME=VALUE/],
        [['--param', 'a=1', '--param', 'a=2'], /--param a is given twice/],
        [['--json', '--decode'], /give --json or --decode, not both/],
      ] as const
    ).map(([flags, message]): [string[], RegExp] => [
      [
        '--issuer',
        'https://as.example.test',
        '--client-id',
        'x',
        '--client-secret-env',
        'CLI_SECRET',
        ...flags,
      ],
      message,
    ]),
  ])('exits 2 on a usage error: %j', async (args, message) => {
    const { code, stderr } = await run(args, SECRET_ENV)
    expect(code).toBe(2)
    expect(stderr).toMatch(message)
  })
})

describe('m2m-token against a token endpoint that records what it is sent', () => {
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
            '--client-id',
            'cli-basic',
            '--client-secret-env',
            'CLI_SECRET',
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

describe('m2m-token against a token endpoint that resets its first connection', () => {
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
        const { code, stdout, stderr } = await run(
          ['--token-endpoint', url, '--client-id', 'cli-basic', '--client-secret-env', 'CLI_SECRET'],
          SECRET_ENV,
        )
        expect({ code, stdout, stderr }).toEqual({ code: 0, stdout: 'second-try-token\n', stderr: '' })
        expect(requests).toBe(2)
      },
    )
  })
})

describe('m2m-token against a server that echoes the credentials it was sent', () => {
  it.each(['client_secret_basic', 'client_secret_post', 'client_secret_jwt'])(
    'keeps them out of stderr with %s',
    async (method) => {
      const sent: string[] = []
      await withEndpoint(
        (raw, req, res) => {
          const authorization = req.headers.authorization ?? ''
          const form = new URLSearchParams(raw)
          const secret =
            form.get('client_secret') ??
            Buffer.from(authorization.slice('Basic '.length), 'base64').toString().split(':')[1] ??
            ''
          const assertion = form.get('client_assertion') ?? ''
          sent.push(raw, authorization, assertion)
          res.writeHead(401, { 'content-type': 'application/json' }).end(
            JSON.stringify({
              error: 'invalid_client',
              error_description: `wrong secret ${decodeURIComponent(secret)} (${authorization}) ${assertion} ${raw}`,
              error_uri: `https://as.example.test/e?${raw}`,
            }),
          )
        },
        async (url) => {
          const { code, stdout, stderr } = await run(
            ['--token-endpoint', url, '--client-id', 'cli-basic', '--client-secret-env', 'CLI_SECRET'].concat(
              ['--auth-method', method],
            ),
            { CLI_SECRET: 'cli-secret-echoed-42' },
          )
          expect(code).toBe(1)
          expect(stdout).toBe('')
          expect(stderr).toMatch(/^m2m-token: invalid_client: wrong secret .*\[redacted\]/)
          expect(stderr).not.toContain('cli-secret-echoed-42')
          const assertion = sent[2]!
          for (const part of [sent[1]!.slice('Basic '.length), assertion, ...assertion.split('.').slice(1)]) {
            if (part !== '') expect(stderr).not.toContain(part)
          }
        },
      )
    },
  )
})
