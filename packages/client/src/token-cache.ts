/**
 * The client's tokens: an in-memory LRU that answers synchronously (the hot path), in front of
 * an optional shared {@link TokenStore}. The store is a convenience, never a dependency: when it
 * throws, answers garbage or is slower than `storeTimeoutMs`, it is bypassed and the failure
 * reported, and the caller simply fetches a token.
 *
 * @module token-cache
 */
import { LRUCache } from 'lru-cache'
import type { StoreErrorMessage } from './diagnostics.js'
import type { TokenSchedule } from './token-lifecycle.js'
import type { TokenSet } from './token-set.js'
import type { TokenStore, TokenStoreLock } from './token-store.js'

/**
 * Default longest wait for the shared store, in ms (the client's `storeTimeoutMs`): a store slower
 * than this is bypassed, since fetching a new token is then likely faster.
 */
export const DEFAULT_STORE_TIMEOUT_MS = 1000

/**
 * Default longest wait for another process's token request, in ms (the client's
 * `storeLockWaitMs`): a token request usually takes tens of ms, and a server slower than this is
 * better asked by each process than waited for.
 */
export const DEFAULT_STORE_LOCK_WAIT_MS = 5000

/** A cached token with its schedule and background-refresh bookkeeping. */
export interface CacheEntry {
  readonly token: TokenSet
  /** An already resolved promise of `token`, so a cache hit allocates nothing. */
  readonly promise: Promise<TokenSet>
  readonly schedule: TokenSchedule
  /** Background refreshes that failed in a row. */
  refreshFailures: number
  /** Earliest next background refresh after a failure, epoch ms. */
  refreshRetryAt: number
}

/** A {@link TokenStore} method the client calls, as named on the `store:error` channel. */
export type StoreOperation = StoreErrorMessage['operation']

/** Reports a store failure; never throws. */
export type StoreErrorReporter = (key: string, operation: StoreOperation, error: unknown) => void

/** What a store call that failed (threw, timed out, answered garbage) yields: it was reported already. */
export const STORE_FAILED: unique symbol = Symbol('store failed')

/** What {@link TokenCache.lock} yields when another holder has the lock. */
export const LOCK_HELD: unique symbol = Symbol('lock held elsewhere')

class StoreTimeoutError extends Error {
  constructor(operation: string, timeoutMs: number) {
    super(`token store ${operation} did not answer within ${timeoutMs} ms`)
    this.name = 'StoreTimeoutError'
  }
}

/** Whether `value` is a {@link TokenSet} of one of the `tokenTypes` this client can send. */
function isTokenSet(value: unknown, tokenTypes: readonly TokenSet['tokenType'][]): value is TokenSet {
  const t = value as TokenSet
  return (
    typeof t === 'object' &&
    t !== null &&
    typeof t.accessToken === 'string' &&
    t.accessToken !== '' &&
    tokenTypes.includes(t.tokenType) &&
    Number.isFinite(t.issuedAt) &&
    Number.isFinite(t.expiresAt) &&
    (t.scope === undefined || typeof t.scope === 'string')
  )
}

/** In-memory entries plus the optional shared store. */
export class TokenCache {
  readonly #memory: LRUCache<string, CacheEntry>
  readonly #store: TokenStore | undefined
  readonly #storeTimeoutMs: number
  readonly #reportStoreError: StoreErrorReporter
  readonly #tokenTypes: readonly TokenSet['tokenType'][]

  constructor(options: {
    maxEntries: number
    store: TokenStore | undefined
    storeTimeoutMs: number
    reportStoreError: StoreErrorReporter
    /**
     * The token types this client sends: a stored token of another type is not used (a DPoP token
     * cannot be sent without its key's proofs, and a DPoP client does not want a Bearer one).
     */
    tokenTypes: readonly TokenSet['tokenType'][]
  }) {
    this.#memory = new LRUCache({ max: options.maxEntries })
    this.#store = options.store
    this.#storeTimeoutMs = options.storeTimeoutMs
    this.#reportStoreError = options.reportStoreError
    this.#tokenTypes = options.tokenTypes
  }

  /** Whether a shared store is configured. */
  get hasStore(): boolean {
    return this.#store !== undefined
  }

  /** Whether the store can lock a key, for one token request per key across processes. */
  get canLock(): boolean {
    return typeof this.#store?.lock === 'function'
  }

  /** Whether the store can tell when a lock's holder is done (`waitForToken`), rather than be read again and again. */
  get canWait(): boolean {
    return typeof this.#store?.waitForToken === 'function'
  }

  /** The in-memory entry for `key`, synchronously. */
  get(key: string): CacheEntry | undefined {
    return this.#memory.get(key)
  }

  /** Keeps `token` in memory under `key` and returns its entry. */
  remember(key: string, token: TokenSet, schedule: TokenSchedule): CacheEntry {
    const entry: CacheEntry = {
      token,
      promise: Promise.resolve(token),
      schedule,
      refreshFailures: 0,
      refreshRetryAt: 0,
    }
    this.#memory.set(key, entry)
    return entry
  }

  /** Drops `key` from memory and from the store (the latter in the background). */
  forget(key: string): void {
    this.#memory.delete(key)
    if (this.#store) void this.#guard(key, 'delete', () => this.#store!.delete(key))
  }

  /** Drops every in-memory entry (the store is shared and left alone). */
  clear(): void {
    this.#memory.clear()
  }

  /** The token the store holds for `key`, or `undefined` when it has none, fails or is too slow. */
  async load(key: string): Promise<TokenSet | undefined> {
    const value = await this.read(key)
    return value === STORE_FAILED ? undefined : value
  }

  /** The token the store holds for `key`: `undefined` when it has none, {@link STORE_FAILED} when it failed. */
  async read(key: string): Promise<TokenSet | undefined | typeof STORE_FAILED> {
    if (!this.#store) return undefined
    return this.#checked(key, 'get', await this.#guard(key, 'get', () => this.#store!.get(key)))
  }

  /**
   * Takes the fetch lock of `key` for `ttlMs`: the lock, {@link LOCK_HELD} when another holder has
   * it, or {@link STORE_FAILED}.
   */
  async lock(key: string, ttlMs: number): Promise<TokenStoreLock | typeof LOCK_HELD | typeof STORE_FAILED> {
    const lock = await this.#guard(key, 'lock', () => this.#store!.lock!(key, ttlMs))
    if (lock === STORE_FAILED) return STORE_FAILED
    if (lock === undefined || lock === null) return LOCK_HELD
    if (typeof lock.release !== 'function') {
      this.#reportStoreError(
        key,
        'lock',
        new TypeError('token store lock() returned a value without release()'),
      )
      return STORE_FAILED
    }
    return lock
  }

  /** Gives `lock` up; a failure is reported (the lock then ends with its TTL). */
  async release(key: string, lock: TokenStoreLock): Promise<void> {
    await this.#guard(key, 'release', () => lock.release())
  }

  /**
   * What `key` holds once the holder of its lock is done, waiting at most `timeoutMs` (the store's
   * `waitForToken`; a plain read when it has none): `undefined`, a token, or {@link STORE_FAILED}.
   */
  async waitFor(key: string, timeoutMs: number): Promise<TokenSet | undefined | typeof STORE_FAILED> {
    const store = this.#store!
    if (typeof store.waitForToken !== 'function') return this.read(key)
    const value = await this.#guard(
      key,
      'waitForToken',
      () => store.waitForToken!(key, timeoutMs),
      timeoutMs + this.#storeTimeoutMs,
    )
    return this.#checked(key, 'waitForToken', value)
  }

  /** Writes `token` to the store and resolves when it is written (or failed, reported). */
  async store(key: string, token: TokenSet, ttlMs: number): Promise<void> {
    if (this.#store && ttlMs > 0) await this.#guard(key, 'set', () => this.#store!.set(key, token, ttlMs))
  }

  /** Writes `token` to the store in the background, for `ttlMs`. */
  save(key: string, token: TokenSet, ttlMs: number): void {
    void this.store(key, token, ttlMs)
  }

  /** `value` when it is nothing or a usable {@link TokenSet}; else the failure is reported. */
  #checked(
    key: string,
    operation: StoreOperation,
    value: unknown,
  ): TokenSet | undefined | typeof STORE_FAILED {
    if (value === STORE_FAILED) return STORE_FAILED
    if (value === undefined || value === null) return undefined
    if (isTokenSet(value, this.#tokenTypes)) return value
    this.#reportStoreError(
      key,
      operation,
      new TypeError(
        `token store returned a value that is not a TokenSet of type ${this.#tokenTypes.join(' or ')}`,
      ),
    )
    return STORE_FAILED
  }

  /**
   * Runs one store operation within `timeoutMs` (default `storeTimeoutMs`); a failure is reported
   * and becomes {@link STORE_FAILED}.
   */
  async #guard<T>(
    key: string,
    operation: StoreOperation,
    run: () => Promise<T> | T,
    timeoutMs = this.#storeTimeoutMs,
  ): Promise<T | typeof STORE_FAILED> {
    let timer: NodeJS.Timeout | undefined
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new StoreTimeoutError(operation, timeoutMs)), timeoutMs)
        // A caller waiting on the store holds the process open itself (process-hold); a
        // background refresh must not.
        timer.unref()
      })
      return await Promise.race([Promise.resolve().then(run), timeout])
    } catch (error) {
      this.#reportStoreError(key, operation, error)
      return STORE_FAILED
    } finally {
      clearTimeout(timer)
    }
  }
}
