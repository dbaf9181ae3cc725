/**
 * A bounded set of keys that each stay until their own expiry and are never evicted for room:
 * what replay protection needs (a forgotten used `jti` or revoked token would be accepted again).
 * When it is full of live entries, adding is refused until the earliest of them expires.
 *
 * @module live-entry-set
 */
import { LRUCache } from 'lru-cache'
import { lruCapacity } from './lru-capacity.js'
import { lruClock } from './lru-clock.js'

/** The answer of a store that cannot record an entry now without forgetting a live one. */
export interface StoreFull {
  /** Epoch ms from which the store expects room again (its earliest live entry has expired). */
  readonly fullUntilMs: number
}

/**
 * The shortest wait between two sweeps of a full set: a sweep is O(n), and one per freed slot would
 * let a caller buy O(n) work per request.
 */
const MIN_FULL_MS = 1000

/** Keys with an expiry each, at most `capacity` of them, none dropped before its expiry. */
export class LiveEntrySet {
  /** Key → its expiry, epoch ms. lru-cache for the TTL bookkeeping; its bound is never reached by a set. */
  readonly #entries: LRUCache<string, number>
  readonly #capacity: number
  readonly #now: () => number
  #fullUntilMs = 0

  constructor(capacity: number, now: () => number) {
    this.#capacity = capacity
    this.#now = now
    this.#entries = new LRUCache({ ...lruCapacity(capacity), ...lruClock(now) })
  }

  /** Whether `key` is held and has not expired. */
  has(key: string): boolean {
    return this.#entries.has(key)
  }

  /** Adds `key` until `expiresAtMs`, or says until when the set is full of live entries. */
  add(key: string, expiresAtMs: number): StoreFull | undefined {
    const nowMs = this.#now()
    if (!this.#entries.has(key) && this.#entries.size >= this.#capacity && !this.#madeRoom(nowMs)) {
      return { fullUntilMs: this.#fullUntilMs }
    }
    // lru-cache reads a TTL of 0 as none: at least 1 ms.
    this.#entries.set(key, expiresAtMs, { ttl: Math.max(1, Math.ceil(expiresAtMs - nowMs)) })
    return undefined
  }

  /** Sweeps expired entries; when none was, notes when the earliest live one expires. */
  #madeRoom(nowMs: number): boolean {
    if (nowMs < this.#fullUntilMs) return false
    this.#entries.purgeStale()
    if (this.#entries.size < this.#capacity) return true
    let earliestMs = Number.POSITIVE_INFINITY
    for (const expiresAtMs of this.#entries.values()) earliestMs = Math.min(earliestMs, expiresAtMs)
    this.#fullUntilMs = Math.max(earliestMs, nowMs + MIN_FULL_MS)
    return false
  }
}
