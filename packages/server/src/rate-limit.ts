/**
 * Brute-force protection for client authentication (RFC 6749 §2.3.1): failed attempts are counted
 * in fixed windows per client id and source address, and per client id alone. Past a limit, the
 * pair (or the id everywhere) is refused until the window ends, without checking the credentials.
 *
 * A client id is no secret (every token carries it), so counting per id alone would let anyone who
 * knows it keep the real client locked out (OWASP ASVS V2.2.1). Counting per (id, source) stops
 * that; the much higher per-id ceiling still bounds guessing spread over many addresses.
 *
 * @module rate-limit
 */
import { LRUCache } from 'lru-cache'
import { keyDigest } from './key-digest.js'
import { lruCapacity } from './lru-capacity.js'
import { lruClock } from './lru-clock.js'

interface FailureWindow {
  failures: number
  /** Epoch ms when the window opened by the first failure closes. */
  endsAtMs: number
}

/** Options of {@link FailedAuthLimiter}. */
export interface FailedAuthLimiterOptions {
  /** Failures of one client id from one source within one window before that pair is refused. */
  maxFailures: number
  /** Failures of one client id from all sources together within one window before the id is refused. */
  maxFailuresPerClient: number
  /** Window length, in milliseconds, from the first failure. */
  windowMs: number
  /**
   * Most counting windows, and separately most live locks, kept by each counter (per pair, per
   * id). Each entry is keyed by a fixed-size digest, so memory is bounded by this count alone.
   * Default 10 000.
   */
  maxTrackedEntries?: number
  /** The clock windows are counted on, epoch ms. Default `Date.now`. */
  now?: () => number
}

/** How often, at most, the lock table is swept for expired locks when it looks full. */
const PURGE_INTERVAL_MS = 1000

/**
 * Failures per key in fixed windows, with the live locks kept apart from the counting windows.
 *
 * Counting windows live in an LRU: evicting one only forgets a partial count, and flushing a key's
 * count that way costs an attacker `maxTracked` failures for other keys. A live lock is never
 * evicted to make room (a flood of other keys must not restore full guessing speed); it only
 * expires. When the lock table is full of live locks, a key that fails for the first time starts
 * its window at the limit, so one failure locks it (in the window table) instead of `maxFailures`.
 */
class FailureCounter {
  readonly #windows: LRUCache<string, FailureWindow>
  /** Key → epoch ms when its lock ends. */
  readonly #locks: LRUCache<string, number>
  readonly #maxFailures: number
  readonly #windowMs: number
  readonly #maxLocks: number
  #nextPurgeAtMs = 0

  constructor(maxFailures: number, windowMs: number, maxTracked: number, now: () => number) {
    this.#maxFailures = maxFailures
    this.#windowMs = windowMs
    this.#maxLocks = maxTracked
    this.#windows = new LRUCache({ ...lruCapacity(maxTracked), ttl: windowMs, ...lruClock(now) })
    this.#locks = new LRUCache({ ...lruCapacity(maxTracked), ttl: windowMs, ...lruClock(now) })
  }

  retryAfterSec(key: string, nowMs: number): number {
    const lockEndsAtMs = this.#locks.get(key)
    if (lockEndsAtMs !== undefined) return secondsUntil(lockEndsAtMs, nowMs)
    const window = this.#windows.get(key)
    if (window === undefined || window.failures < this.#maxFailures) return 0
    return secondsUntil(window.endsAtMs, nowMs)
  }

  recordFailure(key: string, nowMs: number): void {
    if (this.#locks.has(key)) return
    let window = this.#windows.get(key)
    if (window === undefined) {
      const penalised = !this.#hasRoomForLock(nowMs)
      window = { failures: penalised ? this.#maxFailures - 1 : 0, endsAtMs: nowMs + this.#windowMs }
      this.#windows.set(key, window)
    }
    // Mutated in place, not set again: the entry's TTL keeps counting from the first failure.
    window.failures++
    if (window.failures >= this.#maxFailures && this.#hasRoomForLock(nowMs)) {
      this.#locks.set(key, window.endsAtMs, { ttl: Math.max(1, window.endsAtMs - nowMs) })
      this.#windows.delete(key)
    }
  }

  /** Whether a lock can be added without evicting a live one. */
  #hasRoomForLock(nowMs: number): boolean {
    if (this.#locks.size < this.#maxLocks) return true
    // Expired locks still count in `size` until swept; sweeping is O(n), so not on every failure.
    if (nowMs >= this.#nextPurgeAtMs) {
      this.#locks.purgeStale()
      this.#nextPurgeAtMs = nowMs + PURGE_INTERVAL_MS
    }
    return this.#locks.size < this.#maxLocks
  }
}

function secondsUntil(endsAtMs: number, nowMs: number): number {
  return Math.max(1, Math.ceil((endsAtMs - nowMs) / 1000))
}

/**
 * Counts failed client authentications per (client id, source) and per client id.
 *
 * The source is whatever the adapter knows of the caller: the socket's peer address for
 * `listen()`, `remoteAddress` given to `handle()`, else `''` (one shared unknown source).
 */
export class FailedAuthLimiter {
  readonly #perSource: FailureCounter
  readonly #perClient: FailureCounter
  readonly #now: () => number

  constructor(options: FailedAuthLimiterOptions) {
    const maxTracked = options.maxTrackedEntries ?? 10_000
    this.#now = options.now ?? Date.now
    this.#perSource = new FailureCounter(options.maxFailures, options.windowMs, maxTracked, this.#now)
    this.#perClient = new FailureCounter(
      options.maxFailuresPerClient,
      options.windowMs,
      maxTracked,
      this.#now,
    )
  }

  /** Seconds until `clientId` may try again from `source`, or 0 when it is not blocked. */
  retryAfterSec(clientId: string, source: string): number {
    const nowMs = this.#now()
    return Math.max(
      this.#perSource.retryAfterSec(keyDigest(clientId, source), nowMs),
      this.#perClient.retryAfterSec(keyDigest(clientId), nowMs),
    )
  }

  /** Counts one failed authentication for `clientId` from `source`. */
  recordFailure(clientId: string, source: string): void {
    const nowMs = this.#now()
    // Digests, not the raw strings: a client id has no length limit (RFC 6749), and a 60 KB id
    // kept raw in both tables would cost ~120 KB per failing id.
    this.#perSource.recordFailure(keyDigest(clientId, source), nowMs)
    this.#perClient.recordFailure(keyDigest(clientId), nowMs)
  }
}
