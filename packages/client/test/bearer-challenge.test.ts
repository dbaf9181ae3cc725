import { describe, expect, it } from 'vitest'
import { isInvalidTokenChallenge, isUseDpopNonceChallenge, parseChallenges } from '../src/bearer-challenge.js'

describe('isInvalidTokenChallenge', () => {
  it.each([
    'Bearer error="invalid_token"',
    'Bearer realm="api", error="invalid_token", error_description="expired"',
    'bearer error=invalid_token',
    'Basic realm="x", Bearer error="invalid_token"',
    'Basic dXNlcjpwYXNz==, Bearer realm="a, b", error="invalid_token"',
    'Bearer error_description="has \\"quotes\\", commas", error="invalid_token"',
  ])('says yes to %s', (header) => {
    expect(isInvalidTokenChallenge(header)).toBe(true)
  })

  it.each([
    'Bearer',
    'Bearer realm="api"',
    'Bearer error="insufficient_scope", scope="write"',
    'Basic error="invalid_token"',
    'Bearer error_description="error=invalid_token"',
    'Bearer error="invalid_token', // unterminated quote
    '',
  ])('says no to %s', (header) => {
    expect(isInvalidTokenChallenge(header)).toBe(false)
  })

  it('looks through every header line', () => {
    expect(isInvalidTokenChallenge(['Basic realm="x"', 'Bearer error="invalid_token"'])).toBe(true)
    expect(isInvalidTokenChallenge(null)).toBe(false)
  })

  it('parses schemes and parameters', () => {
    expect(
      parseChallenges('Bearer realm="a", scope="x y", Basic realm=b').map((c) => [
        c.scheme,
        Object.fromEntries(c.params),
      ]),
    ).toEqual([
      ['bearer', { realm: 'a', scope: 'x y' }],
      ['basic', { realm: 'b' }],
    ])
  })
})

describe('challenges to a DPoP request (RFC 9449 §7.1, §9)', () => {
  it.each([
    'DPoP error="invalid_token"',
    'DPoP algs="ES256 PS256", error="invalid_token", error_description="expired"',
    'Bearer realm="api", DPoP algs="ES256", error="invalid_token"',
    'Bearer error="invalid_token", DPoP algs="ES256"',
  ])('invalid_token: yes to %s', (header) => {
    expect(isInvalidTokenChallenge(header, { dpop: true })).toBe(true)
  })

  it('invalid_token in the DPoP scheme counts only for a DPoP request', () => {
    expect(isInvalidTokenChallenge('DPoP error="invalid_token"')).toBe(false)
    expect(isInvalidTokenChallenge('DPoP error="invalid_dpop_proof"', { dpop: true })).toBe(false)
  })

  it.each([
    'DPoP error="use_dpop_nonce"',
    'dpop error=use_dpop_nonce',
    'DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"',
    'Bearer realm="api", DPoP algs="ES256", error="use_dpop_nonce"',
  ])('use_dpop_nonce: yes to %s', (header) => {
    expect(isUseDpopNonceChallenge(header)).toBe(true)
  })

  it.each([
    'Bearer error="use_dpop_nonce"',
    'DPoP error="invalid_dpop_proof"',
    'DPoP error_description="use_dpop_nonce"',
    'DPoP algs="ES256"',
    '',
  ])('use_dpop_nonce: no to %s', (header) => {
    expect(isUseDpopNonceChallenge(header)).toBe(false)
  })
})
