/**
 * Where a verifier remembers the DPoP proofs it accepted, so that a proof is accepted once
 * (RFC 9449 §11.1): by default a bounded in-memory cache per verifier; behind an interface, so a
 * store shared by several instances (Redis) can take its place.
 *
 * @module dpop-replay-store
 */
import { LRUCache } from 'lru-cache'

/**
 * Remembers used DPoP proofs. Implement it over a store shared by every instance of the resource
 * server (one `SET key 1 NX PX ttl` on Redis) so that a proof accepted by one instance is refused
 * by the others.
 */
export interface DpopReplayStore {
  /**
   * Records that the proof `key` was used, for `ttlMs` milliseconds, unless it is already
   * recorded. Must be atomic: of two concurrent calls with one key, exactly one may return
   * `true`. A rejection (store unreachable) refuses the request with `TemporarilyUnavailableError`
   * (503), never accepts it.
   *
   * @param key - the proof's identity: its key thumbprint and `jti`, at most 300 characters.
   * @param ttlMs - how long the proof could still be accepted, so how long it must be remembered.
   * @returns `true` when the key was new (the proof is used for the first time), `false` for a replay.
   */
  recordIfNew(key: string, ttlMs: number): boolean | Promise<boolean>
}

/** Default of {@link MemoryDpopReplayStoreOptions.maxEntries}. */
export const DEFAULT_DPOP_REPLAY_MAX_ENTRIES = 100_000

/** Options of {@link MemoryDpopReplayStore}. */
export interface MemoryDpopReplayStoreOptions {
  /**
   * Most proofs remembered. When more proofs arrive within their window than this, the least
   * recently seen are forgotten early and a replay of those is no longer caught: size it above
   * the DPoP requests per `2 × iatWindowSec` this instance serves, or share a store. Default
   * 100 000 (about 830 requests per second with the default 60 s window).
   */
  maxEntries?: number
  /** The clock entries expire by, epoch milliseconds. Default `Date.now`. */
  now?: () => number
}

/** The default {@link DpopReplayStore}: a bounded LRU (lru-cache) in this process. */
export class MemoryDpopReplayStore implements DpopReplayStore {
  readonly #seen: LRUCache<string, true>

  constructor(options: MemoryDpopReplayStoreOptions = {}) {
    const now = options.now ?? Date.now
    this.#seen = new LRUCache<string, true>({
      max: options.maxEntries ?? DEFAULT_DPOP_REPLAY_MAX_ENTRIES,
      // Entries age by the verifier's clock, the one a proof's `iat` is judged by.
      perf: { now },
      // 0: read the clock on every check instead of caching it for a millisecond by a timer, so a
      // clock that moves (tests) is seen at once.
      ttlResolution: 0,
    })
  }

  /** Check-and-record in one synchronous step: atomic within this process. */
  recordIfNew(key: string, ttlMs: number): boolean {
    if (this.#seen.has(key)) return false
    this.#seen.set(key, true, { ttl: Math.max(1, Math.ceil(ttlMs)) })
    return true
  }

  /** How many proofs are remembered now. */
  get size(): number {
    return this.#seen.size
  }

  /** Forgets every proof. */
  clear(): void {
    this.#seen.clear()
  }
}
