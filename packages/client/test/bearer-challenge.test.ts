import { describe, expect, it } from 'vitest'
import { isInvalidTokenChallenge, parseChallenges } from '../src/bearer-challenge.js'

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
