import { randomBytes } from 'node:crypto'
import { chmod, readFile, stat } from 'node:fs/promises'
import { connect, createServer, type Server } from 'node:net'
import { join } from 'node:path'
import { encodeBasicCredentials } from '@oauth-m2m/core/internal'
import { createLocalJWKSet, exportJWK, generateKeyPair, type JSONWebKeySet, jwtVerify } from 'jose'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type RedisServer, startRedisServer, stopRedisServer } from '../../redis/test/support/redis-server.js'
import { OPTIONS } from '../src/cli-arguments.js'
import {
  type CliProcess,
  listeningUrl,
  logLines,
  runCli,
  tempDir,
  tempFile,
  waitForLine,
} from './cli-harness.js'

const FORM = 'application/x-www-form-urlencoded'
const SECRET = 'cli-secret-value-that-must-never-be-logged'

function tokenRequest(url: string, clientId: string, secret: string): Promise<Response> {
  return fetch(`${url}/token`, {
    method: 'POST',
    headers: { authorization: encodeBasicCredentials(clientId, secret), 'content-type': FORM },
    body: 'grant_type=client_credentials',
  })
}

async function stop(proc: CliProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  proc.child.kill(signal)
  return proc.exit
}

describe('m2m-server CLI', () => {
  it('starts with a printed demo client, announces its URL once and serves a token', async () => {
    const proc = runCli([])
    const url = await listeningUrl(proc)
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    const out = proc.stdout()
    expect(out.match(/listening on/g)).toHaveLength(1)
    const clientId = /^demo client_id: (\S+)$/m.exec(out)![1]!
    const clientSecret = /^demo client_secret: (\S+)$/m.exec(out)![1]!
    expect((await tokenRequest(url, clientId, clientSecret)).status).toBe(200)
    const meta = (await (await fetch(`${url}/.well-known/oauth-authorization-server`)).json()) as {
      issuer: string
    }
    expect(meta.issuer).toBe(url)
    expect(await stop(proc)).toBe(0)
  })

  it('serves the clients of a config file, with --issuer', async () => {
    const file = await tempFile({ clients: [{ client_id: 'cfg', client_secret: 'cfg-secret', scope: 'a' }] })
    const proc = runCli(['--config', file, '--issuer', 'https://as.example.com'])
    const url = await listeningUrl(proc)
    expect(proc.stdout()).not.toContain('demo client')
    const meta = (await (await fetch(`${url}/.well-known/oauth-authorization-server`)).json()) as {
      issuer: string
    }
    expect(meta.issuer).toBe('https://as.example.com')
    expect(await stop(proc, 'SIGINT')).toBe(0)
  })

  it('refuses a bad config file with exit code 1 naming the field', async () => {
    const file = await tempFile({
      clients: [
        { client_id: 'a', client_secret: 's' },
        { client_id: 'b', token_endpoint_auth_method: 'magic' },
      ],
    })
    const proc = runCli(['--config', file])
    expect(await proc.exit).toBe(1)
    expect(proc.stderr()).toContain('clients[1].token_endpoint_auth_method')
    expect(proc.stdout()).not.toContain('listening on')
  })

  it('prints its usage with --help: every option, the default port and the exit codes', async () => {
    const proc = runCli(['--help'])
    expect(await proc.exit).toBe(0)
    for (const option of ['--config FILE', '--keys-file', '--log-level', '--redis URL', '--version']) {
      expect(proc.stdout()).toContain(option)
    }
    // Every option the parser takes, each at the start of a line of its own.
    for (const name of Object.keys(OPTIONS))
      expect(proc.stdout()).toMatch(new RegExp(`\\n {2}(-\\w, )?--${name}\\b`))
    expect(proc.stdout()).toMatch(/--port N\s+TCP port \(default 8080\); 0 for any free port/)
    expect(proc.stdout()).toMatch(/Exit codes:\n {2}0 .*\n {2}1 .*\n(.*\n)? {2}2 /)
  })

  it('prints the version of @oauth-m2m/server with --version', async () => {
    const { version } = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as {
      version: string
    }
    const proc = runCli(['--version'])
    expect(await proc.exit).toBe(0)
    expect(proc.stdout()).toBe(`${version}\n`)
  })

  // One process per test: a loaded machine keeps each within the time limit.
  it.each([[['--dev']], [['--dev', '--seed', 's', '--profile', 'entra']]])(
    'points %j to m2m-test-server in one line, with exit code 2',
    async (args) => {
      const proc = runCli(args)
      expect(await proc.exit).toBe(2)
      expect(proc.stderr()).toMatch(/^m2m-server: [^\n]*npx m2m-test-server[^\n]*\n$/)
      expect(proc.stdout()).toBe('')
    },
  )

  it.each([[['--nope']], [['--log-level', 'loud']], [['--shutdown-timeout', '0']]])(
    'refuses %j with its usage and exit code 2',
    async (args) => {
      const proc = runCli(args)
      expect(await proc.exit).toBe(2)
      expect(proc.stderr()).toContain('Usage: m2m-server')
    },
  )
})

describe('m2m-server --port', () => {
  let blocker: Server | undefined
  afterEach(async () => {
    await new Promise((resolve) => (blocker ? blocker.close(resolve) : resolve(undefined)))
    blocker = undefined
  })

  it('listens on 8080 when none is given', async () => {
    // Hold 8080 (unless something else already does): the CLI then fails on exactly that port,
    // which shows where it tried to listen without depending on the port being free.
    blocker = createServer()
    await new Promise<void>((resolve) => {
      blocker!.once('error', () => resolve())
      blocker!.listen(8080, '127.0.0.1', () => resolve())
    })
    const proc = runCli([], { anyPort: false })
    expect(await proc.exit).toBe(1)
    expect(proc.stderr()).toMatch(/EADDRINUSE.*127\.0\.0\.1:8080/)
  })
})

describe('m2m-server config file', () => {
  it('refuses a typo in a client entry, naming the member it was probably meant to be', async () => {
    const file = await tempFile({ clients: [{ client_id: 'a', client_secret: SECRET, scpoe: 'read' }] })
    const proc = runCli(['--config', file])
    expect(await proc.exit).toBe(1)
    expect(proc.stderr()).toBe(
      `m2m-server: config file ${file}: clients[0].scpoe is not a client metadata member this server knows (did you mean "scope"?)\n`,
    )
  })

  it.each([
    [
      'lists the members it reads when none is close',
      { clients: [{ client_id: 'a', client_secret: SECRET, colour: 'blue' }] },
      /clients\[0\]\.colour .*\(this server reads client_id, client_secret, .*scope/,
    ],
    [
      'refuses a top-level typo',
      { clinets: [] },
      /clinets is not a known option \(did you mean "clients"\?\)/,
    ],
    ['refuses a code-only option', { clients: [], store: {} }, /store can only be given in code/],
  ])('%s', async (_, config, message) => {
    const proc = runCli(['--config', await tempFile(config)])
    expect(await proc.exit).toBe(1)
    expect(proc.stderr()).toMatch(message)
    expect(proc.stderr()).not.toContain(SECRET)
  })

  it('reports invalid JSON with its line and column, never quoting the file', async () => {
    const file = await tempFile(
      `{\n  "clients": [\n    { "client_id": "a", "client_secret": '${SECRET}' }\n  ]\n}\n`,
    )
    const proc = runCli(['--config', file])
    expect(await proc.exit).toBe(1)
    expect(proc.stderr()).toBe(
      `m2m-server: config file ${file} is not valid JSON at line 3, column 42: expected a value (an object, array, "string", number, true, false or null)\n`,
    )
  })
})

describe('m2m-server request log', () => {
  const config = {
    clients: [
      { client_id: 'svc', client_secret: SECRET, scope: 'read', client_name: 'Service (informational)' },
    ],
  }

  it('writes one JSON line per request, without a secret, a token or a header', async () => {
    const proc = runCli(['--config', await tempFile(config)])
    const url = await listeningUrl(proc)
    const token = (await (await tokenRequest(url, 'svc', SECRET)).json()) as { access_token: string }
    const introspection = await fetch(`${url}/introspect`, {
      method: 'POST',
      headers: { authorization: encodeBasicCredentials('svc', SECRET), 'content-type': FORM },
      body: `token=${token.access_token}`,
    })
    expect(introspection.status).toBe(200)
    expect((await tokenRequest(url, 'svc', 'a-wrong-secret')).status).toBe(401)
    await waitForLine(proc, /"status":401/)
    expect(await stop(proc)).toBe(0)

    const requests = logLines(proc).filter((line) => line.msg === 'request')
    expect(requests).toEqual([
      expect.objectContaining({
        level: 'info',
        method: 'POST',
        path: '/token',
        status: 200,
        clientId: 'svc',
      }),
      expect.objectContaining({ path: '/introspect', status: 200, clientId: 'svc' }),
      expect.objectContaining({ path: '/token', status: 401, error: 'invalid_client', clientId: 'svc' }),
    ])
    for (const line of requests) {
      expect(line.authMethod).toBe('client_secret_basic')
      expect(line.durationMs).toBeGreaterThanOrEqual(0)
      expect(typeof line.time).toBe('string')
    }
    const output = proc.stdout() + proc.stderr()
    for (const secret of [
      SECRET,
      'a-wrong-secret',
      token.access_token,
      encodeBasicCredentials('svc', SECRET),
    ]) {
      expect(output).not.toContain(secret)
    }
    expect(output).not.toMatch(/authorization/i)
  })

  it('--log-level warn leaves the requests out', async () => {
    const proc = runCli(['--config', await tempFile(config), '--log-level', 'warn'])
    const url = await listeningUrl(proc)
    expect((await tokenRequest(url, 'svc', SECRET)).status).toBe(200)
    expect(await stop(proc)).toBe(0)
    expect(logLines(proc)).toEqual([])
  })
})

/** A token request whose body is held back: its headers are sent, and the server has read them. */
async function inFlightRequest(url: string, clientId: string, secret: string) {
  const { port } = new URL(url)
  const body = 'grant_type=client_credentials'
  const socket = connect(Number(port), '127.0.0.1')
  let received = ''
  socket.setEncoding('utf8')
  socket.on('data', (chunk: string) => {
    received += chunk
  })
  const ended = new Promise<void>((resolve) => socket.on('close', () => resolve()))
  socket.write(
    `POST /token HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: ${encodeBasicCredentials(clientId, secret)}\r\n` +
      `Content-Type: ${FORM}\r\nContent-Length: ${body.length}\r\nExpect: 100-continue\r\n\r\n`,
  )
  // node:http answers 100 Continue once it has parsed the headers: the request is in flight.
  await new Promise<void>((resolve) => {
    const check = () => {
      if (received.includes('100 Continue')) resolve()
      else socket.once('data', check)
    }
    check()
  })
  return {
    /**
     * Sends the body, keeping the connection open, and resolves with everything the server sent
     * until it closed the connection.
     */
    async finish(): Promise<string> {
      socket.write(body)
      await ended
      return received
    },
    destroy: () => socket.destroy(),
  }
}

describe('m2m-server graceful shutdown', () => {
  const config = { clients: [{ client_id: 'svc', client_secret: SECRET }] }

  it('on SIGTERM stops accepting, answers the request in flight, closes its connection and exits 0', async () => {
    // Kept-alive connections would hold the shutdown past its time limit (exit 1) if the server
    // did not close each one once its request is answered.
    const proc = runCli(['--config', await tempFile({ ...config, keepAliveTimeoutMs: 600_000 })])
    const url = await listeningUrl(proc)
    const request = await inFlightRequest(url, 'svc', SECRET)
    proc.child.kill('SIGTERM')
    await waitForLine(proc, /"msg":"shutting down"/)
    await expect(fetch(`${url}/jwks`)).rejects.toThrow()
    const answer = await request.finish()
    expect(answer).toMatch(/HTTP\/1\.1 200 OK\r\n/)
    expect(answer).toContain('"access_token"')
    expect(await proc.exit).toBe(0)
    expect(logLines(proc).map((line) => line.msg)).toEqual(['shutting down', 'request', 'stopped'])
  })

  it('exits 1 once --shutdown-timeout has passed with a request still in flight', async () => {
    const proc = runCli(['--config', await tempFile(config), '--shutdown-timeout', '0.5'])
    const url = await listeningUrl(proc)
    const request = await inFlightRequest(url, 'svc', SECRET)
    proc.child.kill('SIGTERM')
    expect(await proc.exit).toBe(1)
    request.destroy()
    const lines = logLines(proc)
    expect(lines.map((line) => line.msg)).toEqual([
      'shutting down',
      'shutdown timed out: requests in flight were cut',
    ])
    expect(lines[1]).toMatchObject({ level: 'warn', timeoutMs: 500 })
  })

  it('exits 1 at once on a second signal', async () => {
    const proc = runCli(['--config', await tempFile(config)])
    const url = await listeningUrl(proc)
    const request = await inFlightRequest(url, 'svc', SECRET)
    proc.child.kill('SIGTERM')
    await waitForLine(proc, /"msg":"shutting down"/)
    proc.child.kill('SIGINT')
    expect(await proc.exit).toBe(1)
    request.destroy()
    expect(logLines(proc).at(-1)).toMatchObject({ msg: 'stopped at once: a second signal', signal: 'SIGINT' })
  })
})

describe('m2m-server --keys-file', () => {
  const config = { clients: [{ client_id: 'svc', client_secret: SECRET }] }

  it('creates the file (mode 0600) when missing; a restart serves the same JWKS and verifies earlier tokens', async () => {
    const configFile = await tempFile(config)
    const keysFile = join(await tempDir(), 'keys.json')
    const first = runCli(['--config', configFile, '--keys-file', keysFile])
    const firstUrl = await listeningUrl(first)
    expect((await stat(keysFile)).mode & 0o777).toBe(0o600)
    const jwks = await (await fetch(`${firstUrl}/jwks`)).json()
    const { access_token: token } = (await (await tokenRequest(firstUrl, 'svc', SECRET)).json()) as {
      access_token: string
    }
    expect(await stop(first)).toBe(0)

    const second = runCli(['--config', configFile, '--keys-file', keysFile])
    const secondUrl = await listeningUrl(second)
    expect(await (await fetch(`${secondUrl}/jwks`)).json()).toEqual(jwks)
    const introspection = await fetch(`${secondUrl}/introspect`, {
      method: 'POST',
      headers: { authorization: encodeBasicCredentials('svc', SECRET), 'content-type': FORM },
      body: `token=${token}`,
    })
    expect(((await introspection.json()) as { active: boolean }).active).toBe(true)
    await expect(jwtVerify(token, createLocalJWKSet(jwks as JSONWebKeySet))).resolves.toBeDefined()
    expect(await stop(second)).toBe(0)
  })

  it('refuses a file others may read', async () => {
    const configFile = await tempFile(config)
    const readable = await tempFile({ version: 1 }, 'keys.json')
    await chmod(readable, 0o644)
    const open = runCli(['--config', configFile, '--keys-file', readable])
    expect(await open.exit).toBe(1)
    expect(open.stderr()).toBe(
      `m2m-server: keys file ${readable} holds private keys and others may access it (mode 0644): run chmod 600 ${readable}\n`,
    )
  })

  it('exits 1 naming the file when it cannot be created', async () => {
    const keysFile = join(await tempDir(), 'missing-directory', 'keys.json')
    const proc = runCli(['--config', await tempFile(config), '--keys-file', keysFile])
    expect(await proc.exit).toBe(1)
    expect(proc.stderr()).toBe(`m2m-server: cannot write keys file ${keysFile} (ENOENT)\n`)
  })

  it('refuses a file that is not JSON, or not a key set, without quoting it', async () => {
    const configFile = await tempFile(config)
    const notJson = await tempFile(`{ "version": 1, "current": { "jwk": { "d": ${SECRET} } } }`, 'keys.json')
    await chmod(notJson, 0o600)
    const garbled = runCli(['--config', configFile, '--keys-file', notJson])
    expect(await garbled.exit).toBe(1)
    expect(garbled.stderr()).toMatch(/keys file .* is not valid JSON at line 1, column 44/)
    expect(garbled.stderr()).not.toContain(SECRET)

    const wrongShape = await tempFile({ version: 1, current: { jwk: { kty: 'EC', d: SECRET } } }, 'keys.json')
    await chmod(wrongShape, 0o600)
    const wrong = runCli(['--config', configFile, '--keys-file', wrongShape])
    expect(await wrong.exit).toBe(1)
    expect(wrong.stderr()).toMatch(
      /keys file .* is not a signing key set written by m2m-server: "current" must be/,
    )
    expect(wrong.stderr()).not.toContain(SECRET)
  })

  it('does not go with --redis (usage, exit 2) nor with signing.keys in the config file (exit 2)', async () => {
    const withRedis = runCli(['--keys-file', 'k.json', '--redis', 'redis://127.0.0.1:1'])
    expect(await withRedis.exit).toBe(2)
    expect(withRedis.stderr()).toContain('--keys-file and --redis do not go together')
    const { privateKey } = await generateKeyPair('ES256', { extractable: true })
    const configFile = await tempFile({ ...config, signing: { keys: [await exportJWK(privateKey)] } })
    const withKeys = runCli(['--config', configFile, '--keys-file', 'k.json'])
    expect(await withKeys.exit).toBe(2)
    expect(withKeys.stderr()).toContain("--keys-file and the config file's signing.keys do not go together")
  })
})

describe('m2m-server --redis: the command line (exit 2)', () => {
  it.each([
    [['--redis', 'redis://127.0.0.1:1'], '--key-encryption-key-file FILE or M2M_KEY_ENCRYPTION_KEY'],
    [['--redis', 'http://127.0.0.1:1'], '--redis must be a redis:// or rediss:// URL'],
    [['--key-encryption-key-file', 'kek'], '--key-encryption-key-file is for --redis'],
  ])('%j: %s', async (args, message) => {
    const proc = runCli(args)
    expect(await proc.exit).toBe(2)
    expect(proc.stderr()).toContain(message)
  })
})

describe('m2m-server --redis', () => {
  let redis: RedisServer | undefined
  beforeAll(async () => {
    redis = await startRedisServer()
  })
  afterAll(async () => {
    await stopRedisServer(redis)
  })

  // Two servers start at once, each compiling the sources under tsx: longer than one on a loaded machine.
  it('runs two instances as one on a real Redis: same JWKS, a token from one introspected and revoked at the other', {
    timeout: 60_000,
  }, async () => {
    const kek = randomBytes(32).toString('base64url')
    const kekFile = await tempFile(`${kek}\n`, 'kek')
    const config = await tempFile({
      clients: [{ client_id: 'svc', client_secret: SECRET }],
      redis: redis!.url,
    })
    const a = runCli(['--config', config, '--key-encryption-key-file', kekFile])
    const b = runCli(['--redis', redis!.url, '--config', config], {
      env: { ...process.env, M2M_KEY_ENCRYPTION_KEY: kek },
    })
    const [urlA, urlB] = await Promise.all([listeningUrl(a), listeningUrl(b)])
    const jwksA = await (await fetch(`${urlA}/jwks`)).json()
    expect(await (await fetch(`${urlB}/jwks`)).json()).toEqual(jwksA)
    const issued = await fetch(`${urlA}/token`, {
      method: 'POST',
      headers: { authorization: encodeBasicCredentials('svc', SECRET), 'content-type': FORM },
      body: 'grant_type=client_credentials',
    })
    const { access_token: token } = (await issued.json()) as { access_token: string }
    const introspection = await fetch(`${urlB}/introspect`, {
      method: 'POST',
      headers: { authorization: encodeBasicCredentials('svc', SECRET), 'content-type': FORM },
      body: `token=${token}`,
    })
    expect(((await introspection.json()) as { active: boolean }).active).toBe(true)
    const revocation = await fetch(`${urlB}/revoke`, {
      method: 'POST',
      headers: { authorization: encodeBasicCredentials('svc', SECRET), 'content-type': FORM },
      body: `token=${token}`,
    })
    expect(revocation.status).toBe(200)
    const afterRevocation = await fetch(`${urlA}/introspect`, {
      method: 'POST',
      headers: { authorization: encodeBasicCredentials('svc', SECRET), 'content-type': FORM },
      body: `token=${token}`,
    })
    expect(await afterRevocation.json()).toEqual({ active: false })
    expect(await stop(a)).toBe(0)
    expect(await stop(b)).toBe(0)
    for (const proc of [a, b]) expect(proc.stdout() + proc.stderr()).not.toContain(kek)
  })

  it('changes the key-encryption key without losing the signing keys: read under the fallback, then moved', {
    timeout: 60_000,
  }, async () => {
    // An empty Redis (it keeps nothing across a restart): the CLI uses the default key prefix.
    await redis!.stop()
    await redis!.start()
    const oldKek = randomBytes(32).toString('base64url')
    const newKek = randomBytes(32).toString('base64url')
    const config = await tempFile({
      clients: [{ client_id: 'svc', client_secret: SECRET }],
      redis: redis!.url,
    })
    const started = async (env: Record<string, string>) => {
      const proc = runCli(['--config', config], { env: { ...process.env, ...env } })
      const url = await listeningUrl(proc)
      return { proc, jwks: await (await fetch(`${url}/jwks`)).json() }
    }

    const before = await started({ M2M_KEY_ENCRYPTION_KEY: oldKek })
    expect(await stop(before.proc)).toBe(0)
    const rotating = await started({
      M2M_KEY_ENCRYPTION_KEY: newKek,
      M2M_KEY_ENCRYPTION_KEY_FALLBACKS: oldKek,
    })
    expect(rotating.jwks).toEqual(before.jwks)
    const moved = await waitForLine(rotating.proc, /"msg":"moved to the current key-encryption key"/)
    // The start's own read of the key set moved it already; rekey() reports what it moved itself.
    expect(JSON.parse(moved)).toMatchObject({ clients: 0, signingKeys: false })
    expect(await stop(rotating.proc)).toBe(0)
    const after = await started({ M2M_KEY_ENCRYPTION_KEY: newKek })
    expect(after.jwks).toEqual(before.jwks)
    expect(await stop(after.proc)).toBe(0)

    for (const { proc } of [before, rotating, after]) {
      expect(proc.stdout() + proc.stderr()).not.toContain(oldKek)
      expect(proc.stdout() + proc.stderr()).not.toContain(newKek)
    }
  })

  it('exits 1 naming the position of a fallback key-encryption key that is not one, not its value', async () => {
    const proc = runCli(['--redis', redis!.url], {
      env: {
        ...process.env,
        M2M_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64url'),
        M2M_KEY_ENCRYPTION_KEY_FALLBACKS: `${randomBytes(32).toString('base64url')}, not-a-key-value`,
      },
    })
    expect(await proc.exit).toBe(1)
    expect(proc.stderr()).toBe(
      'm2m-server: M2M_KEY_ENCRYPTION_KEY_FALLBACKS: key 2 is not 32 bytes base64url-encoded (43 characters; keys separated by commas)\n',
    )
  })

  it('exits 1 with a one-line error naming Redis, without its password, when Redis cannot be reached at start', async () => {
    const unreachable = `redis://default:a-redis-password@127.0.0.1:${redis!.port}/0`
    await redis!.stop()
    try {
      const proc = runCli(['--redis', unreachable], {
        env: { ...process.env, M2M_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64url') },
      })
      expect(await proc.exit).toBe(1)
      expect(proc.stderr()).toMatch(
        /^m2m-server: cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+\/0: [^\n]+\n$/,
      )
      expect(proc.stderr()).not.toContain('a-redis-password')
      expect(proc.stdout()).not.toContain('listening on')
    } finally {
      await redis!.start()
    }
  })
})
