/**
 * A {@link TokenStore} in files, for `m2m-token --cache`: a script that calls the CLI in a loop
 * gets the cached token until the client's lifecycle says to refresh it, instead of asking the
 * authorization server every time.
 *
 * One file per cache key (the client's key, hashed for the file name), each replaced whole by a
 * rename, so that concurrent invocations never leave a torn file: a reader sees the old token or
 * the new one. A file that cannot be parsed is reported (the client then fetches a token, as for
 * any store failure) and replaced by the token fetched.
 *
 * @module cli/file-token-store
 */
import { createHash, randomUUID } from 'node:crypto'
import { lstat, open, readdir, rename, rm, unlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { TokenSet } from '../token-set.js'
import type { TokenStore } from '../token-store.js'
import { preparePrivateDirectory } from './cache-directory.js'
import { CacheError } from './cli-errors.js'

/** Version of the file format; a file of another version is ignored (and replaced). */
const FORMAT_VERSION = 1

/**
 * Largest cache file read, in bytes: a token response is at most 256 KiB (the client's
 * `maxResponseBytes`), so anything larger is not one of ours.
 */
const MAX_FILE_BYTES = 1024 * 1024

/**
 * Files older than this are removed when a token is written, in ms: a token lives at most 24 h
 * (the client's `maxLifetimeSec`) and is rewritten when refreshed, so such a file holds an
 * expired token.
 */
const STALE_FILE_MS = 24 * 60 * 60 * 1000

/** A temporary file older than this was left by a writer that died before its rename, in ms. */
const ORPHAN_TEMP_FILE_MS = 60 * 1000

/** Most directory entries looked at by one clean-up, so that a huge directory costs a bounded time. */
const MAX_ENTRIES_PER_CLEANUP = 1000

/** A file another release wrote: not an error, just not usable by this one. */
const OTHER_VERSION = Symbol('other version')

const TOKEN_FILE = /^token-[0-9a-f]{64}\.json$/
const TEMP_FILE = /^token-[0-9a-f]{64}\..+\.tmp$/

/** What a cache file holds. */
interface CacheFile {
  version: typeof FORMAT_VERSION
  /** The client's cache key, checked on read: the file name is only its hash. */
  key: string
  /** End of the entry's time to live, epoch ms. */
  storedUntil: number
  token: TokenSet
}

/** Options of {@link FileTokenStore.open}. */
export interface FileTokenStoreOptions {
  /** Clock, epoch ms. Default `Date.now`. */
  now?: () => number
}

/**
 * Tokens in files of a private directory (mode 0700), one file per cache key, each of mode 0600.
 * Every method may reject with a file system error: the client then bypasses the store and
 * reports the failure on `oauth-m2m:client:store:error`.
 */
export class FileTokenStore implements TokenStore {
  /** The directory the token files are in. */
  readonly directory: string
  readonly #now: () => number
  readonly #pending = new Set<Promise<unknown>>()

  private constructor(directory: string, now: () => number) {
    this.directory = directory
    this.#now = now
  }

  /**
   * A store in `directory`, created with mode 0700 when missing.
   *
   * @throws {CacheError} when the directory cannot be created, or is not a private directory of
   *   this user (see {@link preparePrivateDirectory}).
   */
  static async open(directory: string, options: FileTokenStoreOptions = {}): Promise<FileTokenStore> {
    await preparePrivateDirectory(directory)
    return new FileTokenStore(directory, options.now ?? Date.now)
  }

  /** The file of `key`. */
  pathOf(key: string): string {
    return join(this.directory, `${fileStem(key)}.json`)
  }

  /**
   * The token stored under `key`; `undefined` when there is none, it has expired, or the file was
   * written in another format version (by another release).
   *
   * @throws {CacheError} when the file is not a cache file (truncated, edited, not ours): the
   *   client then bypasses the store, and its next token replaces the file.
   */
  async get(key: string): Promise<TokenSet | undefined> {
    const path = this.pathOf(key)
    const text = await readSmallFile(path)
    if (text === undefined) return undefined
    const file = parseCacheFile(text)
    if (file === OTHER_VERSION) return undefined
    if (file === undefined || file.key !== key) {
      throw new CacheError(`ignored the cache file ${path}: it is not a valid token cache file`)
    }
    return this.#now() < file.storedUntil ? file.token : undefined
  }

  /** Writes `value` under `key` for `ttlMs`: a temporary file of mode 0600, renamed over the old one. */
  set(key: string, value: TokenSet, ttlMs: number): Promise<void> {
    if (!(ttlMs > 0)) return this.delete(key)
    const file: CacheFile = { version: FORMAT_VERSION, key, storedUntil: this.#now() + ttlMs, token: value }
    return this.#track(this.#write(key, `${JSON.stringify(file)}\n`))
  }

  /** Removes the file of `key`, when there is one. */
  delete(key: string): Promise<void> {
    return this.#track(
      unlink(this.pathOf(key)).catch((error: unknown) => {
        if ((error as { code?: unknown }).code !== 'ENOENT') throw error
      }),
    )
  }

  /**
   * Resolves when every write and removal started so far has settled. The client writes to its
   * store in the background; a process about to exit waits for this so that the token it just
   * fetched is on disk.
   */
  async settled(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending])
  }

  async #write(key: string, text: string): Promise<void> {
    const target = this.pathOf(key)
    const temp = join(this.directory, `${fileStem(key)}.${process.pid}.${randomUUID()}.tmp`)
    // 'wx' creates a new file and never follows or reuses one; the mode is set at creation, so
    // the token is never readable by others, not even for an instant.
    await writeFile(temp, text, { mode: 0o600, flag: 'wx' })
    try {
      await rename(temp, target)
    } catch (error) {
      await rm(temp, { force: true })
      throw error
    }
    await this.#removeOldFiles()
  }

  /** Removes token files that can only hold expired tokens, and temporary files of writers that died. */
  async #removeOldFiles(): Promise<void> {
    // Modification times come from the system clock, whatever clock the store was given.
    const now = Date.now()
    const names = (await readdir(this.directory)).slice(0, MAX_ENTRIES_PER_CLEANUP)
    for (const name of names) {
      const maxAgeMs = TOKEN_FILE.test(name) ? STALE_FILE_MS : TEMP_FILE.test(name) ? ORPHAN_TEMP_FILE_MS : 0
      if (maxAgeMs === 0) continue
      const path = join(this.directory, name)
      const info = await lstat(path).catch(() => undefined)
      // Another invocation may have removed or replaced it meanwhile: that is fine.
      if (info?.isFile() && now - info.mtimeMs > maxAgeMs) await rm(path, { force: true }).catch(() => {})
    }
  }

  #track<T>(operation: Promise<T>): Promise<T> {
    this.#pending.add(operation)
    const done = () => this.#pending.delete(operation)
    operation.then(done, done)
    return operation
  }
}

/** The file name of a key, without its extension: the key itself may hold any character. */
function fileStem(key: string): string {
  return `token-${createHash('sha256').update(key).digest('hex')}`
}

/** The text of a file, or `undefined` when it does not exist; too large a file is not a cache file. */
async function readSmallFile(path: string): Promise<string | undefined> {
  let handle: Awaited<ReturnType<typeof open>>
  try {
    handle = await open(path, 'r')
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ENOENT') return undefined
    throw error
  }
  try {
    const { size } = await handle.stat()
    // Larger than any token response: not a cache file (the caller refuses the empty text).
    if (size > MAX_FILE_BYTES) return ''
    return await handle.readFile('utf8')
  } finally {
    await handle.close()
  }
}

/** A cache file's content; `undefined` when the text is not one (truncated, edited). */
function parseCacheFile(text: string): CacheFile | typeof OTHER_VERSION | undefined {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return undefined
  }
  const file = value as Partial<CacheFile> | null
  if (typeof file !== 'object' || file === null) return undefined
  if (typeof file.version === 'number' && file.version !== FORMAT_VERSION) return OTHER_VERSION
  if (
    file.version !== FORMAT_VERSION ||
    typeof file.key !== 'string' ||
    typeof file.storedUntil !== 'number' ||
    typeof file.token !== 'object' ||
    file.token === null
  ) {
    return undefined
  }
  // The client checks the token's own fields before it uses it.
  return file as CacheFile
}
