import { accessTokenHash } from '@oauth-m2m/core/internal'
import { describe, expect, it } from 'vitest'

describe('accessTokenHash (RFC 9449 §4.2 ath)', () => {
  it('gives the RFC 9449 §7.1 example ath', () => {
    // The access token and ath of RFC 9449 Figure 12 / Figure 13.
    expect(accessTokenHash('Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU')).toBe(
      'fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo',
    )
  })

  it('changes with every character of the token', () => {
    expect(accessTokenHash('abc')).not.toBe(accessTokenHash('abd'))
    expect(accessTokenHash('abc')).toMatch(/^[A-Za-z0-9_-]{43}$/)
  })
})
