/**
 * Where tokens are kept between calls: the {@link TokenStore} interface for shared stores (Redis,
 * a database, …) and the in-memory default.
 *
 * @module token-store
 */
import { randomUUID } from 'node:crypto'
import { LRUCache } from 'lru-cache'
import type { TokenSet } from './token-set.js'

/**
 * A lock taken with {@link TokenStore.lock}: this process is the one fetching the key's token.
 */
export interface TokenStoreLock {
  /**
   * Gives the lock up, if it is still this holder's (a lock whose TTL ran out and that another
   * process took since is left alone). Called once, after the new token was stored or the
   * request failed.
   */
  release(): Promise<void>
}

/**
 * A place to keep tokens, shared between processes when it is remote. Every method may be async.
 * The client never relies on it: a store that throws, or does not answer within
 * `storeTimeoutMs`, is bypassed (the token is fetched instead) and the failure is published on
 * the `oauth-m2m:client:store:error` channel.
 *
 * Keys are opaque strings built from the token endpoint, client id, DPoP key thumbprint (with the
 * `dpop` option), scopes, resources, audiences and extra parameters; values are {@link TokenSet}
 * objects, which hold access tokens: protect the store.
 *
 * A store that also has {@link TokenStore.lock} gives a fleet one token request per key at a
 * time (distributed single flight): the process that takes the lock fetches and stores the token,
 * the others wait for it (with {@link TokenStore.waitForToken} when there is one, else by reading
 * the store with a growing pause) for at most `storeLockWaitMs`, then fetch their own.
 */
export interface TokenStore {
  /** The token stored under `key`, or `undefined`. Expired tokens may be returned; they are ignored. */
  get(key: string): Promise<TokenSet | undefined> | TokenSet | undefined
  /** Stores `value` under `key` for `ttlMs` milliseconds (until the token expires). */
  set(key: string, value: TokenSet, ttlMs: number): Promise<void> | void
  /** Removes `key`. */
  delete(key: string): Promise<void> | void
  /**
   * Optional. Takes the fetch lock of `key` for `ttlMs` milliseconds, unless another holder has
   * it: `undefined` then. Must be atomic (of concurrent callers at most one gets the lock) and
   * must expire by itself after `ttlMs`, so that a holder that crashed never blocks the fleet
   * (on Redis: `SET lock-key random NX PX ttlMs`). The client asks for the token request's whole
   * deadline (`retry.deadlineMs`) plus two `storeTimeoutMs` for the store round trips around it.
   */
  lock?(key: string, ttlMs: number): Promise<TokenStoreLock | undefined> | TokenStoreLock | undefined
  /**
   * Optional. Waits, at most `timeoutMs` milliseconds, for the holder of `key`'s lock to store a
   * new token or release the lock, and resolves with what `key` then holds (`undefined` at the
   * time limit). It may also resolve early, e.g. at once when no one holds the lock: the client
   * checks what it gets and waits again (within `storeLockWaitMs`) when it is not a newer token.
   * Without it, waiting processes read the store with a growing pause (25 ms up to 0.5 s).
   */
  waitForToken?(key: string, timeoutMs: number): Promise<TokenSet | undefined>
}

/** Options of {@link MemoryTokenStore}. */
export interface MemoryTokenStoreOptions {
  /** Most tokens kept; the least recently used one is dropped beyond it. Default 1 000. */
  maxEntries?: number
}

/** Default bound of the in-memory caches, in entries. */
export const DEFAULT_MAX_CACHE_ENTRIES = 1000

/**
 * A {@link TokenStore} in this process's memory, bounded with an LRU and expiring entries by TTL.
 * It has {@link TokenStore.lock} and {@link TokenStore.waitForToken}, so that several clients of
 * one process that share it (one per library, say) make one token request per key between them.
 */
export class MemoryTokenStore implements TokenStore {
  readonly #cache: LRUCache<string, TokenSet>
  /** The holder of each key's lock (an id), expiring by the lock's TTL. */
  readonly #locks: LRUCache<string, string>
  /** Callers of `waitForToken`, per key, woken by `set` or a release. */
  readonly #waiters = new Map<string, Set<() => void>>()

  constructor(options: MemoryTokenStoreOptions = {}) {
    const max = options.maxEntries ?? DEFAULT_MAX_CACHE_ENTRIES
    this.#cache = new LRUCache({ max })
    this.#locks = new LRUCache({ max })
  }

  get(key: string): TokenSet | undefined {
    return this.#cache.get(key)
  }

  set(key: string, value: TokenSet, ttlMs: number): void {
    if (ttlMs > 0) this.#cache.set(key, value, { ttl: ttlMs })
    else this.#cache.delete(key)
    this.#wake(key)
  }

  delete(key: string): void {
    this.#cache.delete(key)
  }

  lock(key: string, ttlMs: number): TokenStoreLock | undefined {
    if (this.#locks.has(key)) return undefined
    const id = randomUUID()
    this.#locks.set(key, id, { ttl: Math.max(1, Math.ceil(ttlMs)) })
    return {
      release: async () => {
        if (this.#locks.get(key) !== id) return
        this.#locks.delete(key)
        this.#wake(key)
      },
    }
  }

  /** Resolves when the lock's holder stores a token or releases the lock, or when the lock expires. */
  waitForToken(key: string, timeoutMs: number): Promise<TokenSet | undefined> {
    if (!this.#locks.has(key)) return Promise.resolve(this.get(key))
    // A holder that never comes back: its lock's end is as far as anyone needs to wait.
    const waitMs = Math.min(timeoutMs, this.#locks.getRemainingTTL(key))
    return new Promise((resolve) => {
      const waiters = this.#waiters.get(key) ?? new Set()
      this.#waiters.set(key, waiters)
      const done = () => {
        clearTimeout(timer)
        waiters.delete(done)
        if (waiters.size === 0 && this.#waiters.get(key) === waiters) this.#waiters.delete(key)
        resolve(this.get(key))
      }
      const timer = setTimeout(done, waitMs)
      timer.unref()
      waiters.add(done)
    })
  }

  #wake(key: string): void {
    const waiters = this.#waiters.get(key)
    if (waiters !== undefined) for (const wake of [...waiters]) wake()
  }
}
