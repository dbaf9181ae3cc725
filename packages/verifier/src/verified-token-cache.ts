/**
 * Remembers successful JWT verifications, so that a token seen again costs a hash and a lookup
 * instead of a signature check.
 *
 * @module verified-token-cache
 */
import { LRUCache } from 'lru-cache'
import type { Principal } from './types.js'

/** Bounds of the verified-token cache. */
export interface TokenCacheOptions {
  /** Most tokens remembered; the least recently used is dropped first. Default 10 000. */
  maxEntries?: number
  /**
   * Longest time a verification is reused, in milliseconds, even when the token lives longer.
   * It bounds how long a key withdrawn from the JWKS keeps its tokens accepted. Default 300 000.
   */
  maxTtlMs?: number
}

/** Default of {@link TokenCacheOptions.maxEntries}. */
export const DEFAULT_TOKEN_CACHE_MAX_ENTRIES = 10_000
/** Default of {@link TokenCacheOptions.maxTtlMs}. */
export const DEFAULT_TOKEN_CACHE_MAX_TTL_MS = 5 * 60_000

interface Entry {
  principal: Principal
  /** Epoch ms after which the entry must not be used. */
  validUntil: number
}

/** A bounded LRU of verified principals keyed by token hash, never used past the token's `exp`. */
export class VerifiedTokenCache {
  // Expiry is checked by hand against the wall clock rather than with lru-cache's TTL: it is the
  // same clock `exp` is judged by, and it keeps the hot lookup to one map access.
  readonly #entries: LRUCache<string, Entry>
  readonly #maxTtlMs: number
  readonly #toleranceMs: number

  constructor(options: Required<TokenCacheOptions>, clockToleranceSec: number) {
    this.#entries = new LRUCache({ max: options.maxEntries })
    this.#maxTtlMs = options.maxTtlMs
    this.#toleranceMs = clockToleranceSec * 1000
  }

  /** The principal of a token verified before and still valid at `nowMs`. */
  get(tokenHash: string, nowMs: number): Principal | undefined {
    const entry = this.#entries.get(tokenHash)
    if (entry === undefined) return undefined
    if (nowMs < entry.validUntil) return entry.principal
    this.#entries.delete(tokenHash)
    return undefined
  }

  /** Remembers a verification until the token expires (plus the clock tolerance) or `maxTtlMs`. */
  set(tokenHash: string, principal: Principal, nowMs: number): void {
    // A token is accepted while floor(now / 1000) < exp + tolerance, that is while now is below
    // (exp + tolerance) × 1000 — the same instant the full check would start refusing it.
    const validUntil = Math.min(nowMs + this.#maxTtlMs, principal.expiresAt + this.#toleranceMs)
    if (validUntil > nowMs) this.#entries.set(tokenHash, { principal, validUntil })
  }

  /** Forgets everything. */
  clear(): void {
    this.#entries.clear()
  }
}
