/** The on-disk TokenStore of `m2m-token --cache`, on a real temporary directory. */
import { lstat, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { CacheError } from '../src/cli/cli-errors.js'
import { FileTokenStore } from '../src/cli/file-token-store.js'
import type { TokenSet } from '../src/token-set.js'

let home: string
let directory: string

beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'file-token-store-'))
  directory = join(home, 'oauth-m2m')
})

afterEach(async () => {
  await rm(home, { recursive: true, force: true })
})

const NOW = 1_800_000_000_000

function token(accessToken: string): TokenSet {
  return {
    accessToken,
    tokenType: 'Bearer',
    issuedAt: NOW,
    expiresAt: NOW + 3_600_000,
    scope: 'read',
    response: { access_token: accessToken, token_type: 'Bearer', expires_in: 3600 },
  }
}

describe('FileTokenStore', () => {
  it('creates its directory with mode 0700 and writes files of mode 0600', async () => {
    const store = await FileTokenStore.open(directory, { now: () => NOW })
    await store.set('k', token('t1'), 60_000)
    expect((await lstat(directory)).mode & 0o777).toBe(0o700)
    expect((await lstat(store.pathOf('k'))).mode & 0o777).toBe(0o600)
    expect(await store.get('k')).toEqual(token('t1'))
  })

  it('names files by a hash of the key: any key is a safe file name', async () => {
    const store = await FileTokenStore.open(directory, { now: () => NOW })
    const key = '["https://as.example/token","../../etc/passwd",[["a b"],[],[]]]'
    await store.set(key, token('t'), 60_000)
    expect(await readdir(directory)).toEqual([expect.stringMatching(/^token-[0-9a-f]{64}\.json$/)])
    expect(await store.get(key)).toEqual(token('t'))
    expect(await store.get(`${key} `)).toBeUndefined()
  })

  it('answers undefined once the time to live has passed', async () => {
    let now = NOW
    const store = await FileTokenStore.open(directory, { now: () => now })
    await store.set('k', token('t'), 60_000)
    now += 59_999
    expect(await store.get('k')).toEqual(token('t'))
    now += 1
    expect(await store.get('k')).toBeUndefined()
  })

  it('deletes, and a set with no time to live deletes', async () => {
    const store = await FileTokenStore.open(directory, { now: () => NOW })
    await store.set('a', token('a'), 60_000)
    await store.set('b', token('b'), 60_000)
    await store.delete('a')
    await store.set('b', token('b2'), 0)
    await store.delete('never-there')
    expect(await store.get('a')).toBeUndefined()
    expect(await store.get('b')).toBeUndefined()
    expect(await readdir(directory)).toEqual([])
  })

  it.each([
    ['truncated', '{"version":1,"key":"k","stored'],
    ['another shape', '[1,2,3]'],
    ['no token', '{"version":1,"key":"k","storedUntil":1e99}'],
    ['empty', ''],
  ])(
    'throws a CacheError for a file that is not a cache file (%s), and the next set replaces it',
    async (_, text) => {
      const store = await FileTokenStore.open(directory, { now: () => NOW })
      await writeFile(store.pathOf('k'), text)
      await expect(store.get('k')).rejects.toThrow(CacheError)
      await store.set('k', token('fresh'), 60_000)
      expect(await store.get('k')).toEqual(token('fresh'))
    },
  )

  it('throws for a file that holds another key (it was not written for this one)', async () => {
    const store = await FileTokenStore.open(directory, { now: () => NOW })
    await store.set('other', token('t'), 60_000)
    await writeFile(store.pathOf('k'), await readFile(store.pathOf('other')))
    await expect(store.get('k')).rejects.toThrow(/not a valid token cache file/)
  })

  it('ignores, without an error, a file of another format version', async () => {
    const store = await FileTokenStore.open(directory, { now: () => NOW })
    await writeFile(store.pathOf('k'), JSON.stringify({ version: 2, anything: true }))
    expect(await store.get('k')).toBeUndefined()
  })

  it('refuses a file larger than any token response', async () => {
    const store = await FileTokenStore.open(directory, { now: () => NOW })
    await writeFile(store.pathOf('k'), Buffer.alloc(1024 * 1024 + 1, ' '))
    await expect(store.get('k')).rejects.toThrow(CacheError)
  })

  it('keeps the file whole under concurrent writes: a reader sees one of the tokens', async () => {
    const store = await FileTokenStore.open(directory, { now: () => NOW })
    const writes = Array.from({ length: 20 }, (_, i) =>
      store.set('k', token(`token-${i}-${'x'.repeat(5000)}`), 60_000),
    )
    const reads = Array.from({ length: 20 }, () => store.get('k').catch((error: unknown) => error))
    await Promise.all(writes)
    for (const read of await Promise.all(reads)) {
      if (read !== undefined) expect((read as TokenSet).accessToken).toMatch(/^token-\d+-x{5000}$/)
    }
    expect((await store.get('k'))?.accessToken).toMatch(/^token-\d+-/)
    expect(await readdir(directory)).toHaveLength(1)
  })

  it('settled() waits for writes started in the background', async () => {
    const store = await FileTokenStore.open(directory, { now: () => NOW })
    void store.set('k', token('t'), 60_000)
    await store.settled()
    expect(JSON.parse(await readFile(store.pathOf('k'), 'utf8')).token.accessToken).toBe('t')
  })

  it('removes files that can only hold expired tokens, and temporary files left by a dead writer', async () => {
    const store = await FileTokenStore.open(directory, { now: () => Date.now() })
    await store.set('old', token('old'), 60_000)
    await store.set('recent', token('recent'), 60_000)
    const orphan = join(directory, `token-${'0'.repeat(64)}.123.abc.tmp`)
    await writeFile(orphan, 'partial')
    const unrelated = join(directory, 'notes.txt')
    await writeFile(unrelated, 'mine')
    const dayAgo = new Date(Date.now() - 24 * 60 * 60 * 1000 - 60_000)
    await utimes(store.pathOf('old'), dayAgo, dayAgo)
    const minutesAgo = new Date(Date.now() - 5 * 60_000)
    await utimes(orphan, minutesAgo, minutesAgo)
    await store.set('new', token('new'), 60_000)
    const names = await readdir(directory)
    expect(names).toContain('notes.txt')
    expect(names).not.toContain(orphan.slice(directory.length + 1))
    expect(names.filter((name) => name.endsWith('.json'))).toHaveLength(2)
    await expect(lstat(store.pathOf('old'))).rejects.toMatchObject({ code: 'ENOENT' })
    expect((await store.get('recent'))?.accessToken).toBe('recent')
  })

  it('refuses a directory path that is a file', async () => {
    await writeFile(directory, '')
    await expect(FileTokenStore.open(directory)).rejects.toThrow(CacheError)
  })
})
