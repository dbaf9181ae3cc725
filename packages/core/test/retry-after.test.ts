import { parseRetryAfter } from '@oauth-m2m/core/internal'
import { describe, expect, it } from 'vitest'

const NOW = Date.parse('2026-11-24T12:00:00Z')

describe('parseRetryAfter (RFC 9110 §10.2.3)', () => {
  it('reads delay-seconds as milliseconds', () => {
    expect(parseRetryAfter('120', NOW)).toBe(120_000)
    expect(parseRetryAfter(' 0 ', NOW)).toBe(0)
  })

  it('reads an HTTP-date in each of its three forms as the time left until it', () => {
    expect(parseRetryAfter('Tue, 24 Nov 2026 12:00:30 GMT', NOW)).toBe(30_000)
    expect(parseRetryAfter('Tuesday, 24-Nov-26 12:00:30 GMT', NOW)).toBe(30_000)
    // asctime has no zone; it is read, whatever the local zone does to it
    expect(parseRetryAfter('Tue Nov 24 12:00:30 2026', NOW)).toBeTypeOf('number')
  })

  it('gives 0 for an HTTP-date in the past', () => {
    expect(parseRetryAfter('Tue, 24 Nov 2026 11:00:00 GMT', NOW)).toBe(0)
  })

  it('gives undefined when absent or unparseable, so callers fall back to their own backoff', () => {
    expect(parseRetryAfter(undefined, NOW)).toBeUndefined()
    expect(parseRetryAfter('soon', NOW)).toBeUndefined()
    expect(parseRetryAfter('-5', NOW)).toBeUndefined()
    expect(parseRetryAfter('1.5', NOW)).toBeUndefined()
  })
})
