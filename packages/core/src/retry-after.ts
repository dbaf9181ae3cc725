/**
 * `Retry-After` (RFC 9110 §10.2.3): either delay-seconds or an HTTP-date.
 *
 * @module retry-after
 */

/**
 * Converts a `Retry-After` header value to a delay in milliseconds from `nowMs`. Returns
 * `undefined` when the header is absent or unparseable; a date in the past gives `0`.
 */
export function parseRetryAfter(value: string | undefined, nowMs: number = Date.now()): number | undefined {
  if (value === undefined) return undefined
  const trimmed = value.trim()
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000
  // All three HTTP-date forms (IMF-fixdate, RFC 850, asctime) start with a day name; without this
  // check V8's lenient Date.parse reads values such as "-5" or "1.5" as dates in 2001.
  if (!/^(mon|tue|wed|thu|fri|sat|sun)[a-z]*,? /i.test(trimmed)) return undefined
  const date = Date.parse(trimmed)
  if (Number.isNaN(date)) return undefined
  return Math.max(0, date - nowMs)
}
