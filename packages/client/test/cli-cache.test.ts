/**
 * `m2m-token --cache` run as child processes against the reference server behind a front that
 * counts token requests: a cached token costs no request, the files are private, the lifecycle of
 * the client decides when a cached token is replaced, and a bad file is replaced, never fatal.
 */
import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type AuthorizationServer, createAuthorizationServer } from '@oauth-m2m/server'
import { decodeJwt } from 'jose'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  CHILD_PROCESS_TEST_TIMEOUT_MS,
  type CountingFront,
  countingFront,
  runCli as run,
} from './cli-harness.js'

const SECRET = 'cache-test-secret-5678'
let as: AuthorizationServer
let front: CountingFront
let cacheHome: string
let cacheDir: string

beforeAll(async () => {
  as = await createAuthorizationServer({
    clients: [
      {
        client_id: 'cli-cache',
        client_secret: SECRET,
        grant_types: ['client_credentials'],
        scope: 'read write',
      },
    ],
    resources: [{ resource: 'https://opaque.example.test/', tokenFormat: 'opaque' }],
  })
  await as.listen({ port: 0, host: '127.0.0.1' })
  front = await countingFront(as)
})

afterAll(async () => {
  await front?.close()
  await as?.close()
})

beforeEach(async () => {
  cacheHome = await mkdtemp(join(tmpdir(), 'm2m-token-cache-'))
  cacheDir = join(cacheHome, 'oauth-m2m')
})

afterEach(async () => {
  await rm(cacheHome, { recursive: true, force: true })
})

/** Runs the CLI for the counted token endpoint, with the cache under `cacheHome`. */
function cached(extra: string[] = []) {
  return run(
    [
      '--token-endpoint',
      `${front.url}/token`,
      '--client-id',
      'cli-cache',
      '--client-secret-env',
      'CLI_SECRET',
      '--cache',
      ...extra,
    ],
    { env: { CLI_SECRET: SECRET, XDG_CACHE_HOME: cacheHome } },
  )
}

async function tokenFiles(): Promise<string[]> {
  return (await readdir(cacheDir)).filter((name) => name.endsWith('.json'))
}

describe('m2m-token --cache', { timeout: CHILD_PROCESS_TEST_TIMEOUT_MS }, () => {
  it('serves the second call from the cache: one token request, the same token', async () => {
    const before = front.count('/token')
    const first = await cached(['--scope', 'read'])
    const second = await cached(['--scope', 'read'])
    expect(first).toMatchObject({ code: 0, stderr: '' })
    expect(second).toMatchObject({ code: 0, stderr: '' })
    expect(second.stdout).toBe(first.stdout)
    expect(decodeJwt(first.stdout.trim()).client_id).toBe('cli-cache')
    expect(front.count('/token') - before).toBe(1)
  })

  it('keeps tokens in a directory of mode 0700, in files of mode 0600', async () => {
    expect((await cached()).code).toBe(0)
    expect((await lstat(cacheDir)).mode & 0o777).toBe(0o700)
    const files = await tokenFiles()
    expect(files).toHaveLength(1)
    expect((await lstat(join(cacheDir, files[0]!))).mode & 0o777).toBe(0o600)
    expect((await readdir(cacheDir)).filter((name) => name.endsWith('.tmp'))).toEqual([])
  })

  it('makes an existing cache directory private', async () => {
    await mkdir(cacheDir, { mode: 0o755 })
    await chmod(cacheDir, 0o755)
    expect((await cached()).code).toBe(0)
    expect((await lstat(cacheDir)).mode & 0o777).toBe(0o700)
  })

  it('keeps one token per cache key: other scopes are another request and another file', async () => {
    const before = front.count('/token')
    const read = await cached(['--scope', 'read'])
    const write = await cached(['--scope', 'write'])
    const readAgain = await cached(['--scope', 'read'])
    const writeAgain = await cached(['--scope', 'write'])
    expect([read.code, write.code, readAgain.code, writeAgain.code]).toEqual([0, 0, 0, 0])
    expect(decodeJwt(read.stdout.trim()).scope).toBe('read')
    expect(decodeJwt(write.stdout.trim()).scope).toBe('write')
    expect(readAgain.stdout).toBe(read.stdout)
    expect(writeAgain.stdout).toBe(write.stdout)
    expect(front.count('/token') - before).toBe(2)
    expect(await tokenFiles()).toHaveLength(2)
  })

  it('asks for a new token once the cached one is due for its early refresh', async () => {
    expect((await cached()).code).toBe(0)
    const [name] = await tokenFiles()
    const path = join(cacheDir, name!)
    const file = JSON.parse(await readFile(path, 'utf8'))
    // The token was issued 50 minutes ago and expires in 10: past refreshAt (at most 48 minutes
    // into an hour's lifetime), still far from expiry.
    const now = Date.now()
    file.token.issuedAt = now - 50 * 60_000
    file.token.expiresAt = now + 10 * 60_000
    await writeFile(path, JSON.stringify(file))
    const before = front.count('/token')
    const refreshed = await cached(['--json'])
    expect(refreshed.code).toBe(0)
    expect(front.count('/token') - before).toBe(1)
    const stored = JSON.parse(await readFile(path, 'utf8'))
    expect(stored.token.issuedAt).toBeGreaterThanOrEqual(now)
    expect(JSON.parse(refreshed.stdout).expires_in).toBe(3600)
  })

  it('prints the seconds left as expires_in for a token from the cache (--json)', async () => {
    expect((await cached()).code).toBe(0)
    const [name] = await tokenFiles()
    const path = join(cacheDir, name!)
    const file = JSON.parse(await readFile(path, 'utf8'))
    const now = Date.now()
    file.token.issuedAt = now - 10 * 60_000
    file.token.expiresAt = now + 50 * 60_000
    await writeFile(path, JSON.stringify(file))
    const before = front.count('/token')
    const { code, stdout } = await cached(['--json'])
    expect(code).toBe(0)
    expect(front.count('/token') - before).toBe(0)
    const answer = JSON.parse(stdout)
    expect(answer.expires_in).toBeLessThanOrEqual(50 * 60)
    expect(answer.expires_in).toBeGreaterThan(50 * 60 - 60)
    expect(answer.expires_at).toBe(Math.floor(file.token.expiresAt / 1000))
  })

  it.each([
    ['truncated JSON', '{"version":1,"key":'],
    ['not JSON at all', '\u0000\u0001garbage'],
    ['JSON of another shape', '{"hello":"world"}'],
  ])('replaces a corrupt cache file (%s) with a warning, never a crash', async (_, garbage) => {
    expect((await cached()).code).toBe(0)
    const [name] = await tokenFiles()
    const path = join(cacheDir, name!)
    await writeFile(path, garbage)
    const before = front.count('/token')
    const repaired = await cached()
    expect(repaired.code).toBe(0)
    expect(decodeJwt(repaired.stdout.trim()).client_id).toBe('cli-cache')
    expect(repaired.stderr).toMatch(
      /^m2m-token: warning: the token cache could not be read from: ignored the cache file .*: it is not a valid token cache file\n$/,
    )
    expect(front.count('/token') - before).toBe(1)
    // Replaced: the next call is served from it again, without a warning.
    const again = await cached()
    expect(again).toMatchObject({ code: 0, stderr: '', stdout: repaired.stdout })
    expect(front.count('/token') - before).toBe(1)
  })

  it('writes the cache warning as a JSON line under --json', async () => {
    expect((await cached()).code).toBe(0)
    const [name] = await tokenFiles()
    await writeFile(join(cacheDir, name!), 'garbage')
    const { code, stderr } = await cached(['--json'])
    expect(code).toBe(0)
    const warning = JSON.parse(stderr.trim())
    expect(warning).toEqual({
      warning: { code: 'ERR_CACHE', message: expect.stringMatching(/not a valid token cache file/) },
    })
  })

  it('leaves a complete file when invocations run at once', async () => {
    const runs = await Promise.all([cached(), cached(), cached()])
    expect(runs.map((r) => r.code)).toEqual([0, 0, 0])
    const files = await tokenFiles()
    expect(files).toHaveLength(1)
    const stored = JSON.parse(await readFile(join(cacheDir, files[0]!), 'utf8'))
    expect(runs.map((r) => r.stdout.trim())).toContain(stored.token.accessToken)
    expect((await readdir(cacheDir)).filter((name) => name.endsWith('.tmp'))).toEqual([])
    const before = front.count('/token')
    const next = await cached()
    expect(next).toMatchObject({ code: 0, stdout: `${stored.token.accessToken}\n` })
    expect(front.count('/token') - before).toBe(0)
  })

  it('caches an opaque token too, and --decode still exits 8 for it', async () => {
    const before = front.count('/token')
    const first = await cached(['--resource', 'https://opaque.example.test/', '--decode'])
    const second = await cached(['--resource', 'https://opaque.example.test/'])
    expect(first.code).toBe(8)
    expect(second.code).toBe(0)
    expect(front.count('/token') - before).toBe(1)
  })

  it('refuses a cache directory that is a symbolic link (exit 6)', async () => {
    const elsewhere = join(cacheHome, 'elsewhere')
    await mkdir(elsewhere, { mode: 0o700 })
    await symlink(elsewhere, cacheDir)
    const { code, stdout, stderr } = await cached()
    expect({ code, stdout }).toEqual({ code: 6, stdout: '' })
    expect(stderr).toMatch(/^m2m-token: the token cache directory .*oauth-m2m is a symbolic link/)
  })

  it.skipIf(process.getuid?.() !== 0)('refuses a cache directory of another user (exit 6)', async () => {
    const { chown } = await import('node:fs/promises')
    await mkdir(cacheDir, { mode: 0o700 })
    await chown(cacheDir, 65534, 65534)
    const { code, stderr } = await cached(['--json'])
    expect(code).toBe(6)
    expect(JSON.parse(stderr.trim()).error).toEqual({
      code: 'ERR_CACHE',
      message: `the token cache directory ${cacheDir} belongs to another user`,
    })
  })

  it('without --cache writes nothing and asks every time', async () => {
    const before = front.count('/token')
    const args = [
      '--token-endpoint',
      `${front.url}/token`,
      '--client-id',
      'cli-cache',
      '--client-secret-env',
      'CLI_SECRET',
    ]
    const env = { env: { CLI_SECRET: SECRET, XDG_CACHE_HOME: cacheHome } }
    expect((await run(args, env)).code).toBe(0)
    expect((await run(args, env)).code).toBe(0)
    expect(front.count('/token') - before).toBe(2)
    await expect(lstat(cacheDir)).rejects.toMatchObject({ code: 'ENOENT' })
  })
})
