/**
 * The client's tokens: an in-memory LRU that answers synchronously (the hot path), in front of
 * an optional shared {@link TokenStore}. The store is a convenience, never a dependency: when it
 * throws, answers garbage or is slower than `storeTimeoutMs`, it is bypassed and the failure
 * reported, and the caller simply fetches a token.
 *
 * @module token-cache
 */
import { LRUCache } from 'lru-cache'
import type { TokenSchedule } from './token-lifecycle.js'
import type { TokenSet } from './token-set.js'
import type { TokenStore } from './token-store.js'

/**
 * Default longest wait for the shared store, in ms (the client's `storeTimeoutMs`): a store slower
 * than this is bypassed, since fetching a new token is then likely faster.
 */
export const DEFAULT_STORE_TIMEOUT_MS = 1000

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

/** Reports a store failure; never throws. */
export type StoreErrorReporter = (key: string, operation: 'get' | 'set' | 'delete', error: unknown) => void

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
    if (!this.#store) return undefined
    const value = await this.#guard(key, 'get', () => this.#store!.get(key))
    if (value === undefined || value === null) return undefined
    if (!isTokenSet(value, this.#tokenTypes)) {
      this.#reportStoreError(
        key,
        'get',
        new TypeError(
          `token store returned a value that is not a TokenSet of type ${this.#tokenTypes.join(' or ')}`,
        ),
      )
      return undefined
    }
    return value
  }

  /** Writes `token` to the store in the background, for `ttlMs`. */
  save(key: string, token: TokenSet, ttlMs: number): void {
    if (this.#store && ttlMs > 0) void this.#guard(key, 'set', () => this.#store!.set(key, token, ttlMs))
  }

  /** Runs one store operation with the time limit; failures are reported and become `undefined`. */
  async #guard<T>(
    key: string,
    operation: 'get' | 'set' | 'delete',
    run: () => Promise<T> | T,
  ): Promise<T | undefined> {
    let timer: NodeJS.Timeout | undefined
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new StoreTimeoutError(operation, this.#storeTimeoutMs)),
          this.#storeTimeoutMs,
        )
        // A caller waiting on the store holds the process open itself (process-hold); a
        // background refresh must not.
        timer.unref()
      })
      return await Promise.race([Promise.resolve().then(run), timeout])
    } catch (error) {
      this.#reportStoreError(key, operation, error)
      return undefined
    } finally {
      clearTimeout(timer)
    }
  }
}
