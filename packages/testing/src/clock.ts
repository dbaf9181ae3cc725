/**
 * The test server's clock: the time its server reads (issued `iat`/`exp`, client-assertion checks,
 * JWKS key retirement, expiry of stored tokens, the request log), which a test moves without fake
 * timers.
 *
 * @module clock
 */
import { ConfigurationError } from '@oauth-m2m/core'

/**
 * A clock a test moves. It runs like a real clock: `set` and `advance` move it, and it keeps
 * flowing from there at the pace of its source (the `now` option, `Date.now` by default). A
 * source that stands still (`now: () => t`) gives a clock that moves only when told to.
 */
export interface TestClock {
  /** The current time, epoch milliseconds. */
  now(): number
  /**
   * Moves the clock to `ms` (epoch milliseconds); it keeps flowing from there. Earlier than now
   * is allowed (a test of clock skew).
   *
   * @throws {ConfigurationError} when `ms` is not a finite number.
   */
  set(ms: number): void
  /**
   * Moves the clock by `ms` milliseconds; negative moves it back.
   *
   * @throws {ConfigurationError} when `ms` is not a finite number.
   */
  advance(ms: number): void
}

function finite(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new ConfigurationError(`@oauth-m2m/testing: clock.${what} takes a finite number of milliseconds`)
  }
  return value
}

/**
 * A {@link TestClock} that follows `source` plus an offset: `set` and `advance` change only the
 * offset, so time keeps flowing as `source` does.
 *
 * @param source Where time comes from, epoch milliseconds. Default `Date.now`.
 * @throws {ConfigurationError} when `source` is not a function.
 */
export function createTestClock(source: () => number = Date.now): TestClock {
  if (typeof source !== 'function') {
    throw new ConfigurationError('@oauth-m2m/testing: now must be a function returning epoch milliseconds')
  }
  let offsetMs = 0
  return Object.freeze({
    now: () => source() + offsetMs,
    set(ms: number) {
      offsetMs = finite(ms, 'set') - source()
    },
    advance(ms: number) {
      offsetMs += finite(ms, 'advance')
    },
  })
}
