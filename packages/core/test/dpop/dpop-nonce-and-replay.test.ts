import { dpopReplayExpiresAtMs, isDpopNonce } from '@oauth-m2m/core/internal'
import { describe, expect, it } from 'vitest'

describe('isDpopNonce (RFC 9449 §8.1: 1*NQCHAR)', () => {
  it('takes printable ASCII but " and \\, at least one character', () => {
    expect(isDpopNonce('eyJ7S_zG.9-~!#[]')).toBe(true)
    for (const value of ['', 'a b', 'a"b', 'a\\b', 'é', 'a\tb', 'a\nb']) {
      expect(isDpopNonce(value), JSON.stringify(value)).toBe(false)
    }
  })
})

describe('dpopReplayExpiresAtMs (RFC 9449 §11.1)', () => {
  it('is the end of the iat window plus the second iat loses to rounding, in ms', () => {
    expect(dpopReplayExpiresAtMs(1_800_000_000, 60)).toBe(1_800_000_061_000)
    expect(dpopReplayExpiresAtMs(1_800_000_000, 0)).toBe(1_800_000_001_000)
  })
})
