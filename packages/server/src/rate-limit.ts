/**
 * Brute-force protection for client authentication (RFC 6749 §2.3.1): failed attempts are counted
 * in fixed windows per client id and source address, and per client id alone. Past a limit, the
 * pair (or the id everywhere) is refused until the window ends, without checking the credentials.
 *
 * A client id is no secret (every token carries it), so counting per id alone would let anyone who
 * knows it keep the real client locked out (OWASP ASVS V2.2.1). Counting per (id, source) stops
 * that; the much higher per-id ceiling still bounds guessing spread over many addresses.
 *
 * Several instances on one shared store count together: each failure is also counted on the store
 * (in the background, so the 401 never waits for it), and the instance whose count reaches a
 * limit announces the lock to all with an `auth-lock` event. Whether a client is locked is always
 * decided from this process's tables (its own counts, the counts the store answered, the events),
 * so a successful authentication makes no store round trip.
 *
 * @module rate-limit
 */
import { LRUCache } from 'lru-cache'
import { keyDigest } from './key-digest.js'
import { lruCapacity } from './lru-capacity.js'
import { lruClock } from './lru-clock.js'
import type { ServerStore, StoreEvent } from './server-store.js'

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
  /**
   * The store shared with other instances: failures are counted there too, and locks announced
   * and heard through its events (see {@link FailedAuthLimiter.start}). Default none: this
   * process counts alone.
   */
  store?: ServerStore
}

/**
 * Most store counts in flight at once; failures beyond it are counted in this process only, so
 * that a flood of failures against a slow store cannot pile up pending calls.
 */
const MAX_PENDING_STORE_COUNTS = 1000

/**
 * Prefixes of the keys counted on the store and named in `auth-lock` events: which table a lock
 * belongs to. `.` is outside the base64url alphabet of the digests, so the two never collide.
 */
const PAIR_PREFIX = 'p.'
const CLIENT_PREFIX = 'c.'

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

  /**
   * Locks `key` until `untilMs` (a lock decided elsewhere: the store's count, another instance),
   * unless a lock of this key already lasts longer, or the table is full of live locks.
   */
  lockUntil(key: string, untilMs: number, nowMs: number): void {
    if (untilMs <= nowMs) return
    const lockEndsAtMs = this.#locks.get(key)
    if (lockEndsAtMs !== undefined && lockEndsAtMs >= untilMs) return
    if (lockEndsAtMs === undefined && !this.#hasRoomForLock(nowMs)) return
    this.#locks.set(key, untilMs, { ttl: Math.max(1, untilMs - nowMs) })
    this.#windows.delete(key)
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
  readonly #options: FailedAuthLimiterOptions
  #pendingStoreCounts = 0
  #unsubscribe: (() => void) | undefined

  constructor(options: FailedAuthLimiterOptions) {
    this.#options = options
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
    const pairKey = keyDigest(clientId, source)
    const clientKey = keyDigest(clientId)
    this.#perSource.recordFailure(pairKey, nowMs)
    this.#perClient.recordFailure(clientKey, nowMs)
    if (this.#options.store !== undefined) {
      this.#countOnStore(this.#options.store, PAIR_PREFIX + pairKey, this.#options.maxFailures)
      this.#countOnStore(this.#options.store, CLIENT_PREFIX + clientKey, this.#options.maxFailuresPerClient)
    }
  }

  /**
   * Counts one failure on the store, in the background. A count at or past `max` locks the key
   * here; the one that reaches `max` exactly (one instance in the fleet: the store counts
   * atomically) announces the lock to the others. A store that fails only loses the shared count.
   */
  #countOnStore(store: ServerStore, storeKey: string, max: number): void {
    if (this.#pendingStoreCounts >= MAX_PENDING_STORE_COUNTS) return
    this.#pendingStoreCounts++
    store
      .countFailure(storeKey, this.#options.windowMs)
      .then(async (count) => {
        if (count.failures < max) return
        this.#lock(storeKey, count.windowEndsAtMs)
        if (count.failures === max) {
          await store.publish({ type: 'auth-lock', key: storeKey, untilMs: count.windowEndsAtMs })
        }
      })
      .catch(() => {
        // The store is down or slow: this process's own count still protects it, and requests
        // that need the store answer 503 meanwhile.
      })
      .finally(() => {
        this.#pendingStoreCounts--
      })
  }

  /** Applies a lock named by a store key, at most one window long (an event may come from afar). */
  #lock(storeKey: string, untilMs: number): void {
    if (typeof storeKey !== 'string' || typeof untilMs !== 'number' || !Number.isFinite(untilMs)) return
    const nowMs = this.#now()
    const until = Math.min(untilMs, nowMs + this.#options.windowMs)
    const key = storeKey.slice(PAIR_PREFIX.length)
    if (storeKey.startsWith(PAIR_PREFIX)) this.#perSource.lockUntil(key, until, nowMs)
    else if (storeKey.startsWith(CLIENT_PREFIX)) this.#perClient.lockUntil(key, until, nowMs)
  }

  #onEvent(event: StoreEvent): void {
    if (event.type === 'auth-lock') this.#lock(event.key, event.untilMs)
  }

  /** Listens for the `auth-lock` events of other instances (with a store); idempotent. */
  start(): void {
    const { store } = this.#options
    if (store === undefined || this.#unsubscribe !== undefined) return
    this.#unsubscribe = store.subscribe((event) => this.#onEvent(event))
  }

  /** Stops listening. */
  stop(): void {
    const unsubscribe = this.#unsubscribe
    this.#unsubscribe = undefined
    unsubscribe?.()
  }
}
