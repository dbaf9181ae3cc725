/**
 * Where tokens are kept between calls: the {@link TokenStore} interface for shared stores (Redis,
 * a database, …) and the in-memory default.
 *
 * @module token-store
 */
import { LRUCache } from 'lru-cache'
import type { TokenSet } from './token-set.js'

/**
 * A place to keep tokens, shared between processes when it is remote. Every method may be async.
 * The client never relies on it: a store that throws, or does not answer within
 * `storeTimeoutMs`, is bypassed (the token is fetched instead) and the failure is published on
 * the `oauth-m2m:client:store:error` channel.
 *
 * Keys are opaque strings built from the token endpoint, client id, DPoP key thumbprint (with the
 * `dpop` option), scopes, resources, audiences and extra parameters; values are {@link TokenSet}
 * objects, which hold access tokens: protect the store.
 */
export interface TokenStore {
  /** The token stored under `key`, or `undefined`. Expired tokens may be returned; they are ignored. */
  get(key: string): Promise<TokenSet | undefined> | TokenSet | undefined
  /** Stores `value` under `key` for `ttlMs` milliseconds (until the token expires). */
  set(key: string, value: TokenSet, ttlMs: number): Promise<void> | void
  /** Removes `key`. */
  delete(key: string): Promise<void> | void
}

/** Options of {@link MemoryTokenStore}. */
export interface MemoryTokenStoreOptions {
  /** Most tokens kept; the least recently used one is dropped beyond it. Default 1 000. */
  maxEntries?: number
}

/** Default bound of the in-memory caches, in entries. */
export const DEFAULT_MAX_CACHE_ENTRIES = 1000

/** A {@link TokenStore} in this process's memory, bounded with an LRU and expiring entries by TTL. */
export class MemoryTokenStore implements TokenStore {
  readonly #cache: LRUCache<string, TokenSet>

  constructor(options: MemoryTokenStoreOptions = {}) {
    this.#cache = new LRUCache({ max: options.maxEntries ?? DEFAULT_MAX_CACHE_ENTRIES })
  }

  get(key: string): TokenSet | undefined {
    return this.#cache.get(key)
  }

  set(key: string, value: TokenSet, ttlMs: number): void {
    if (ttlMs > 0) this.#cache.set(key, value, { ttl: ttlMs })
    else this.#cache.delete(key)
  }

  delete(key: string): void {
    this.#cache.delete(key)
  }
}
