/**
 * Every exit status of `m2m-token`, each reached by a real child process, with the message on
 * stderr as text and as the `--json` error object.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type AuthorizationServer, createAuthorizationServer } from '@oauth-m2m/server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CHILD_PROCESS_TEST_TIMEOUT_MS, runCli as run, withEndpoint } from './cli-harness.js'

let as: AuthorizationServer
let issuer: string
let dir: string
const SECRET = 'exit-code-secret-1234'
const SECRET_ENV = { env: { CLI_SECRET: SECRET } }
const BASIC_CLIENT = ['--client-id', 'cli-basic', '--client-secret-env', 'CLI_SECRET']

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'm2m-token-exit-'))
  as = await createAuthorizationServer({
    clients: [
      { client_id: 'cli-basic', client_secret: SECRET, grant_types: ['client_credentials'], scope: 'read' },
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

/** The one JSON line a `--json` run wrote on stderr. */
function jsonError(stderr: string): { error: Record<string, unknown> } {
  const lines = stderr.trimEnd().split('\n')
  expect(lines).toHaveLength(1)
  return JSON.parse(lines[0]!)
}

/** A loopback port nothing listens on: taken, then released. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

describe('exit 2: usage', { timeout: CHILD_PROCESS_TEST_TIMEOUT_MS }, () => {
  it('for an unknown flag, as text with a pointer to --help', async () => {
    const { code, stdout, stderr } = await run(['--bogus'])
    expect({ code, stdout }).toEqual({ code: 2, stdout: '' })
    expect(stderr).toBe("m2m-token: Unknown option '--bogus'\n(see m2m-token --help)\n")
  })

  it('for a missing flag, as JSON with --json', async () => {
    const { code, stderr } = await run(['--client-id', 'x', '--json'])
    expect(code).toBe(2)
    expect(jsonError(stderr)).toEqual({
      error: { code: 'ERR_USAGE', message: 'give --issuer or --token-endpoint' },
    })
  })

  it.each([
    [['--client-secret', 'oops-a-secret']],
    [['--client-secret=oops-a-secret']],
    [['--client-secret=oops-a-secret', '--json']],
  ])('for a secret on the command line, never quoted: %j', async (flags) => {
    const { code, stdout, stderr } = await run(['--issuer', issuer, '--client-id', 'x', ...flags])
    expect({ code, stdout }).toEqual({ code: 2, stdout: '' })
    expect(stderr).toMatch(/a secret is never taken from the command line/)
    expect(stderr).toMatch(/--client-secret-file PATH, --client-secret-stdin or --client-secret-env NAME/)
    expect(stderr).not.toContain('oops')
  })

  it('for a value --timeout does not take', async () => {
    const { code, stderr } = await run(['--issuer', issuer, ...BASIC_CLIENT, '--timeout', '10s'], SECRET_ENV)
    expect(code).toBe(2)
    expect(stderr).toMatch(/--timeout takes a number of seconds from 0.001 to 86400, not "10s"/)
  })
})

describe('exit 3: configuration', { timeout: CHILD_PROCESS_TEST_TIMEOUT_MS }, () => {
  it.each<[string, string[], RegExp]>([
    [
      'an unset variable',
      ['--client-secret-env', 'UNSET_VAR_123'],
      /environment variable UNSET_VAR_123 is not set/,
    ],
    [
      'a missing file',
      ['--client-secret-file', '/nonexistent/secret'],
      /cannot read the client secret file \/nonexistent\/secret \(ENOENT\)/,
    ],
    ['empty standard input', ['--client-secret-stdin'], /standard input held no client secret/],
  ])('for %s', async (_, flags, message) => {
    const { code, stdout, stderr } = await run(['--issuer', issuer, '--client-id', 'cli-basic', ...flags])
    expect({ code, stdout }).toEqual({ code: 3, stdout: '' })
    expect(stderr).toMatch(message)
  })

  it('for an empty secret file', async () => {
    const file = join(dir, 'empty')
    await writeFile(file, '\n')
    const { code, stderr } = await run([
      '--issuer',
      issuer,
      '--client-id',
      'cli-basic',
      '--client-secret-file',
      file,
    ])
    expect(code).toBe(3)
    expect(stderr).toBe(`m2m-token: the client secret file ${file} is empty\n`)
  })

  it('for an http: issuer on a host that is not loopback, as JSON', async () => {
    const { code, stderr } = await run(
      ['--issuer', 'http://auth:8080', ...BASIC_CLIENT, '--json'],
      SECRET_ENV,
    )
    expect(code).toBe(3)
    const { error } = jsonError(stderr)
    expect(error.code).toBe('ERR_CONFIGURATION')
    expect(error.message).toMatch(/^--issuer is http: to auth, which is not loopback/)
  })

  it('for a scope the client refuses', async () => {
    const { code, stderr } = await run(
      ['--issuer', issuer, ...BASIC_CLIENT, '--scope', 'bad"scope'],
      SECRET_ENV,
    )
    expect(code).toBe(3)
    expect(stderr).toMatch(/^m2m-token: createTokenClient: scope/)
  })
})

describe('exit 4: the authorization server refused', { timeout: CHILD_PROCESS_TEST_TIMEOUT_MS }, () => {
  it('with the OAuth error, as text', async () => {
    const { code, stdout, stderr } = await run(['--issuer', issuer, ...BASIC_CLIENT], {
      env: { CLI_SECRET: 'the-wrong-secret' },
    })
    expect({ code, stdout }).toEqual({ code: 4, stdout: '' })
    expect(stderr).toMatch(/^m2m-token: invalid_client(: .*)? \(HTTP 401\)\n$/)
    expect(stderr).not.toContain('the-wrong-secret')
  })

  it('with the OAuth error and status, as JSON', async () => {
    const { code, stderr } = await run(
      ['--issuer', issuer, ...BASIC_CLIENT, '--scope', 'admin', '--json'],
      SECRET_ENV,
    )
    expect(code).toBe(4)
    const { error } = jsonError(stderr)
    expect(error).toMatchObject({ code: 'ERR_OAUTH_RESPONSE', oauthError: 'invalid_scope', status: 400 })
    expect(error.message).toMatch(/invalid_scope/)
  })

  it('sends every repeated --resource (this server allows one per token and says so)', async () => {
    const { code, stderr } = await run(
      [
        '--issuer',
        issuer,
        ...BASIC_CLIENT,
        '--resource',
        'https://api.example.test/',
        '--resource',
        'https://other.example.test/',
      ],
      SECRET_ENV,
    )
    expect(code).toBe(4)
    expect(stderr).toMatch(/^m2m-token: invalid_target: .*one resource/)
  })
})

describe('exit 5: no answer', { timeout: CHILD_PROCESS_TEST_TIMEOUT_MS }, () => {
  it('for a connection refused', async () => {
    const port = await closedPort()
    const { code, stderr } = await run(
      ['--token-endpoint', `http://127.0.0.1:${port}/token`, ...BASIC_CLIENT, '--timeout', '1', '--json'],
      SECRET_ENV,
    )
    expect(code).toBe(5)
    expect(jsonError(stderr).error.code).toBe('ERR_NETWORK')
  })

  it('for --timeout passing while the server holds the request', async () => {
    const held: Array<() => void> = []
    await withEndpoint(
      (_body, _req, res) => {
        held.push(() => res.end())
      },
      async (url) => {
        const { code, stderr } = await run(
          ['--token-endpoint', url, ...BASIC_CLIENT, '--timeout', '0.3', '--json'],
          SECRET_ENV,
        )
        expect(code).toBe(5)
        expect(jsonError(stderr).error).toMatchObject({ code: 'ERR_TIMEOUT' })
        expect(held.length).toBeGreaterThan(0)
      },
    )
  })

  it('for --timeout passing across discovery and the token request, each quicker than it', async () => {
    const answered: string[] = []
    await withEndpoint(
      (_body, req, res) => {
        const origin = `http://${req.headers.host}`
        const body =
          req.url === '/.well-known/oauth-authorization-server'
            ? { issuer: origin, token_endpoint: `${origin}/token` }
            : { access_token: 'slow-token', token_type: 'Bearer', expires_in: 300 }
        setTimeout(() => {
          answered.push(req.url ?? '')
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body))
        }, 700)
      },
      async (_url, port) => {
        const { code, stderr } = await run(
          ['--issuer', `http://127.0.0.1:${port}`, ...BASIC_CLIENT, '--timeout', '1', '--json'],
          SECRET_ENV,
        )
        expect(code).toBe(5)
        expect(jsonError(stderr).error).toMatchObject({ code: 'ERR_TIMEOUT' })
        expect(answered).toContain('/.well-known/oauth-authorization-server')
      },
    )
  })

  it('for a server that stays unavailable (503) through the retries', async () => {
    let requests = 0
    await withEndpoint(
      (_body, _req, res) => {
        requests++
        res.writeHead(503, { 'content-type': 'text/plain' }).end('down for maintenance')
      },
      async (url) => {
        const { code, stderr } = await run(['--token-endpoint', url, ...BASIC_CLIENT, '--json'], SECRET_ENV)
        expect(code).toBe(5)
        expect(jsonError(stderr).error).toMatchObject({ code: 'ERR_HTTP', status: 503 })
        expect(requests).toBeGreaterThan(1)
      },
    )
  })
})

describe('exit 6: cache', { timeout: CHILD_PROCESS_TEST_TIMEOUT_MS }, () => {
  it('when the cache directory cannot be created', async () => {
    const file = join(dir, 'not-a-directory')
    await writeFile(file, '')
    const { code, stdout, stderr } = await run(['--issuer', issuer, ...BASIC_CLIENT, '--cache', '--json'], {
      env: { CLI_SECRET: SECRET, XDG_CACHE_HOME: file },
    })
    expect({ code, stdout }).toEqual({ code: 6, stdout: '' })
    const { error } = jsonError(stderr)
    expect(error.code).toBe('ERR_CACHE')
    expect(error.message).toMatch(
      /^cannot create the token cache directory .*not-a-directory\/oauth-m2m: ENOTDIR/,
    )
  })
})

describe('exit 7: the answer is not a token response', { timeout: CHILD_PROCESS_TEST_TIMEOUT_MS }, () => {
  it('for an HTML page where the token endpoint should be', async () => {
    await withEndpoint(
      (_body, _req, res) => {
        res.writeHead(404, { 'content-type': 'text/html' }).end('<html>Not Found</html>')
      },
      async (url) => {
        const { code, stdout, stderr } = await run(['--token-endpoint', url, ...BASIC_CLIENT], SECRET_ENV)
        expect({ code, stdout }).toEqual({ code: 7, stdout: '' })
        expect(stderr).toMatch(/^m2m-token: .*404/)
      },
    )
  })

  it('for discovery metadata that names another issuer', async () => {
    await withEndpoint(
      (_body, _req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            issuer: 'https://elsewhere.example.test',
            token_endpoint: 'https://elsewhere.example.test/token',
          }),
        )
      },
      async (_url, port) => {
        const { code, stderr } = await run(
          ['--issuer', `http://127.0.0.1:${port}`, ...BASIC_CLIENT, '--json'],
          SECRET_ENV,
        )
        expect(code).toBe(7)
        expect(jsonError(stderr).error.code).toBe('ERR_DISCOVERY')
      },
    )
  })
})

describe('exit 8: --decode of a token that is not a JWT', { timeout: CHILD_PROCESS_TEST_TIMEOUT_MS }, () => {
  it.each([
    [[], 'm2m-token: the access token is not a signed JWT (it is opaque or encrypted): nothing to decode\n'],
    [
      ['--json'],
      `${JSON.stringify({ error: { code: 'ERR_NOT_A_JWT', message: 'the access token is not a signed JWT (it is opaque or encrypted): nothing to decode' } })}\n`,
    ],
  ])('with %j', async (extra, expected) => {
    const { code, stdout, stderr } = await run(
      [
        '--issuer',
        issuer,
        ...BASIC_CLIENT,
        '--resource',
        'https://opaque.example.test/',
        '--decode',
        ...extra,
      ],
      SECRET_ENV,
    )
    expect({ code, stdout, stderr }).toEqual({ code: 8, stdout: '', stderr: expected })
  })
})
