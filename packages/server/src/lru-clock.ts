/**
 * lru-cache on the server's clock: the stores and the rate limiter keep entries with a TTL, and
 * those TTLs must end when the server's `now` says so, not when `performance.now()` does.
 *
 * @module lru-clock
 */

/** The lru-cache options that make its TTLs follow the clock `now` (epoch ms). */
export interface LruClockOptions {
  perf?: { now(): number }
  ttlResolution?: number
}

/**
 * lru-cache options for TTLs on `now`; none for `Date.now`, which leaves lru-cache's own
 * monotonic clock in place.
 */
export function lruClock(now: () => number): LruClockOptions {
  if (now === Date.now) return {}
  // ttlResolution 0: lru-cache otherwise reuses one reading of the clock for a millisecond, so a
  // test that moves the clock would be answered with the old time.
  return { perf: { now }, ttlResolution: 0 }
}
