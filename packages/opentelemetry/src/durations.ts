/**
 * Durations as the semantic conventions record them: seconds, in the histogram buckets advised for
 * `http.client.request.duration` and `http.server.request.duration`.
 *
 * @module durations
 */

/** Explicit bucket boundaries, in seconds, advised to the SDK for every duration histogram. */
export const DURATION_BUCKETS_SEC: readonly number[] = Object.freeze([
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
])

/** Milliseconds (what the diagnostics payloads carry) in seconds. */
export function secondsOf(durationMs: number): number {
  return durationMs / 1000
}
