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
 * source that stands still (`now: () => t`) gives a clock that moves only when told to. It stays
 * within ±8.64e15 ms of 1970, the range of a `Date`, and stands still at either end.
 */
export interface TestClock {
  /** The current time, epoch milliseconds. */
  now(): number
  /**
   * Moves the clock to `ms` (epoch milliseconds); it keeps flowing from there. Earlier than now
   * is allowed (a test of clock skew).
   *
   * @throws {ConfigurationError} when `ms` is not an integer within ±8.64e15 (the range of a
   *   `Date`).
   */
  set(ms: number): void
  /**
   * Moves the clock by `ms` milliseconds; negative moves it back.
   *
   * @throws {ConfigurationError} when `ms` is not an integer, or would move the clock past ±8.64e15
   *   ms from 1970 (the range of a `Date`).
   */
  advance(ms: number): void
}

/**
 * The farthest the clock goes from 1970, either way, in milliseconds: the range of a `Date`
 * (ECMAScript's time values), beyond which the server's times cannot be written (Entra's error
 * answers carry the time as a date). At that edge the clock stands still.
 */
export const MAX_CLOCK_MS = 8.64e15

function integerMs(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new ConfigurationError(`@oauth-m2m/testing: clock.${what} takes an integer number of milliseconds`)
  }
  return value
}

function withinRange(ms: number, what: string): number {
  if (Math.abs(ms) > MAX_CLOCK_MS) {
    throw new ConfigurationError(
      `@oauth-m2m/testing: clock.${what} would move the clock past ±${MAX_CLOCK_MS} ms from 1970 (the range of a Date)`,
    )
  }
  return ms
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
    // Set at the edge of the range, the clock would flow past it: there it stands still instead.
    now: () => Math.min(MAX_CLOCK_MS, Math.max(-MAX_CLOCK_MS, source() + offsetMs)),
    set(ms: number) {
      offsetMs = withinRange(integerMs(ms, 'set'), 'set') - source()
    },
    advance(ms: number) {
      const base = source()
      offsetMs = withinRange(base + offsetMs + integerMs(ms, 'advance'), 'advance') - base
    },
  })
}
