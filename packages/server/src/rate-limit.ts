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
  /** Most keys tracked at once by each counter (per pair, per id). Default 10 000. */
  maxTrackedIds?: number
}

/** Failures per key in fixed windows. */
class FailureCounter {
  readonly #windows: LRUCache<string, FailureWindow>
  readonly #maxFailures: number
  readonly #windowMs: number

  constructor(maxFailures: number, windowMs: number, maxTracked: number) {
    this.#maxFailures = maxFailures
    this.#windowMs = windowMs
    this.#windows = new LRUCache({ max: maxTracked, ttl: windowMs })
  }

  retryAfterSec(key: string, nowMs: number): number {
    const window = this.#windows.get(key)
    if (window === undefined || window.failures < this.#maxFailures) return 0
    return Math.max(1, Math.ceil((window.endsAtMs - nowMs) / 1000))
  }

  recordFailure(key: string, nowMs: number): void {
    const window = this.#windows.get(key)
    if (window === undefined) {
      this.#windows.set(key, { failures: 1, endsAtMs: nowMs + this.#windowMs })
    } else {
      // Mutated in place, not set again: the entry's TTL keeps counting from the first failure.
      window.failures++
    }
  }
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

  constructor(options: FailedAuthLimiterOptions) {
    const maxTracked = options.maxTrackedIds ?? 10_000
    this.#perSource = new FailureCounter(options.maxFailures, options.windowMs, maxTracked)
    this.#perClient = new FailureCounter(options.maxFailuresPerClient, options.windowMs, maxTracked)
  }

  /** Seconds until `clientId` may try again from `source`, or 0 when it is not blocked. */
  retryAfterSec(clientId: string, source: string, nowMs = Date.now()): number {
    return Math.max(
      this.#perSource.retryAfterSec(pairKey(clientId, source), nowMs),
      this.#perClient.retryAfterSec(clientId, nowMs),
    )
  }

  /** Counts one failed authentication for `clientId` from `source`. */
  recordFailure(clientId: string, source: string, nowMs = Date.now()): void {
    this.#perSource.recordFailure(pairKey(clientId, source), nowMs)
    this.#perClient.recordFailure(clientId, nowMs)
  }
}

function pairKey(clientId: string, source: string): string {
  // JSON keeps the pair unambiguous whatever characters the id holds.
  return JSON.stringify([clientId, source])
}
