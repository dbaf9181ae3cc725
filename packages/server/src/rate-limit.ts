/**
 * Brute-force protection for client authentication (RFC 6749 §2.3.1): failed attempts are counted
 * per client id in a fixed window; past the limit, the id is refused until the window ends, without
 * checking the credentials.
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
  /** Failures within one window before the client id is blocked. */
  maxFailures: number
  /** Window length, in milliseconds, from the first failure. */
  windowMs: number
  /** Most client ids tracked at once. Default 10 000. */
  maxTrackedIds?: number
}

/** Counts failed client authentications per client id. */
export class FailedAuthLimiter {
  readonly #windows: LRUCache<string, FailureWindow>
  readonly #maxFailures: number
  readonly #windowMs: number

  constructor(options: FailedAuthLimiterOptions) {
    this.#maxFailures = options.maxFailures
    this.#windowMs = options.windowMs
    this.#windows = new LRUCache({ max: options.maxTrackedIds ?? 10_000, ttl: options.windowMs })
  }

  /** Seconds until `clientId` may try again, or 0 when it is not blocked. */
  retryAfterSec(clientId: string, nowMs = Date.now()): number {
    const window = this.#windows.get(clientId)
    if (window === undefined || window.failures < this.#maxFailures) return 0
    return Math.max(1, Math.ceil((window.endsAtMs - nowMs) / 1000))
  }

  /** Counts one failed authentication for `clientId`. */
  recordFailure(clientId: string, nowMs = Date.now()): void {
    const window = this.#windows.get(clientId)
    if (window === undefined) {
      this.#windows.set(clientId, { failures: 1, endsAtMs: nowMs + this.#windowMs })
    } else {
      // Mutated in place, not set again: the entry's TTL keeps counting from the first failure.
      window.failures++
    }
  }
}
