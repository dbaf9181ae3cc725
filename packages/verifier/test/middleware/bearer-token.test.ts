import { InvalidRequestError } from '@oauth-m2m/core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  countAuthorizationHeaders,
  countDpopHeaders,
  queryHasAccessToken,
  readAccessToken,
} from '../../src/middleware/bearer-token.js'

/** The token of the Bearer scheme alone, as a verifier with DPoP disabled reads it. */
const bearerOnly = (credentials: Parameters<typeof readAccessToken>[0]) =>
  readAccessToken(credentials, false)?.token
const fromHeader = (authorization: string | null | undefined) => bearerOnly({ authorization })

describe('readAccessToken, Bearer scheme only (RFC 6750 §2.1)', () => {
  it('takes the token from "Bearer <token>" with the scheme in any case and one or more spaces', () => {
    expect(fromHeader('Bearer abc.DEF-_~+/==')).toBe('abc.DEF-_~+/==')
    expect(fromHeader('bearer abc')).toBe('abc')
    expect(fromHeader('bEaReR    abc')).toBe('abc')
    expect(fromHeader('Bearer abc \t')).toBe('abc')
  })

  it('sees no bearer credentials without a header, with an empty one or with another scheme', () => {
    for (const header of [
      undefined,
      null,
      '',
      'Basic YTpi',
      'Bearerx abc',
      'Bearer-abc',
      'DPoP abc',
      'Bear abc',
    ]) {
      expect(fromHeader(header), String(header)).toBeUndefined()
    }
  })

  it('refuses the Bearer scheme without a token', () => {
    for (const header of ['Bearer', 'Bearer ', 'Bearer   ', 'Bearer\tabc']) {
      expect(() => fromHeader(header), header).toThrow(InvalidRequestError)
    }
  })

  it('refuses anything but exactly one b64token', () => {
    for (const header of [
      'Bearer a b',
      'Bearer a,b',
      'Bearer a, Bearer b',
      'Bearer "abc"',
      'Bearer =',
      'Bearer a=b',
      'Bearer ä',
    ]) {
      expect(() => fromHeader(header), header).toThrow(InvalidRequestError)
    }
  })

  it('accepts every b64token and refuses every token with another character (property)', () => {
    const b64char = fc.constantFrom(...'ABCXYZabcxyz0189-._~+/'.split(''))
    const b64token = fc
      .tuple(fc.array(b64char, { minLength: 1, maxLength: 40 }), fc.nat({ max: 3 }))
      .map(([chars, pad]) => chars.join('') + '='.repeat(pad))
    fc.assert(fc.property(b64token, (token) => fromHeader(`Bearer ${token}`) === token))
    const outsider = fc.constantFrom(...'!"#$%&\'(),:;<>?@[\\]^`{|}*é'.split(''))
    fc.assert(
      fc.property(b64token, outsider, fc.nat({ max: 40 }), (token, bad, at) => {
        const broken = token.slice(0, at) + bad + token.slice(at)
        expect(() => fromHeader(`Bearer ${broken}`)).toThrow(InvalidRequestError)
      }),
    )
  })

  it('refuses several Authorization headers and tokens in the query or the body, header or not', () => {
    expect(() => bearerOnly({ authorization: 'Bearer a', authorizationCount: 2 })).toThrow(
      'the request carries more than one Authorization header',
    )
    expect(() => bearerOnly({ authorization: undefined, query: 'access_token=a' })).toThrow(/query string/)
    expect(() => bearerOnly({ authorization: 'Bearer a', query: 'x=1&access_token=' })).toThrow(
      /query string/,
    )
    expect(() => bearerOnly({ authorization: 'Bearer a', bodyHasToken: true })).toThrow(/request body/)
  })

  it('never quotes the header in its error', () => {
    try {
      fromHeader('Bearer secret-token value')
      expect.unreachable()
    } catch (error) {
      expect(JSON.stringify((error as InvalidRequestError).toJSON())).not.toContain('secret')
    }
  })
})

describe('queryHasAccessToken', () => {
  it('finds access_token however it is encoded, and nothing else', () => {
    expect(queryHasAccessToken('access_token=a')).toBe(true)
    expect(queryHasAccessToken('?access_token')).toBe(true)
    expect(queryHasAccessToken('a=1&access%5Ftoken=x')).toBe(true)
    expect(queryHasAccessToken('')).toBe(false)
    expect(queryHasAccessToken('?')).toBe(false)
    expect(queryHasAccessToken('token=a&access_token_hint=b')).toBe(false)
  })
})

describe('countAuthorizationHeaders', () => {
  it('counts the Authorization lines of a raw header list in any case', () => {
    expect(countAuthorizationHeaders(['Host', 'x', 'authorization', 'a', 'AUTHORIZATION', 'b'])).toBe(2)
    expect(countAuthorizationHeaders(['Host', 'x', 'Proxy-Authorization', 'a'])).toBe(0)
  })
})

describe('readAccessToken (RFC 9449 §7.1)', () => {
  const read = (authorization: string, acceptDpop = true) => readAccessToken({ authorization }, acceptDpop)

  it('takes the token and the scheme from Bearer and DPoP, in any case', () => {
    expect(read('Bearer abc')).toEqual({ scheme: 'Bearer', token: 'abc' })
    expect(read('DPoP abc.def')).toEqual({ scheme: 'DPoP', token: 'abc.def' })
    expect(read('dpop   abc')).toEqual({ scheme: 'DPoP', token: 'abc' })
  })

  it('sees no credentials in DPoP when DPoP is not accepted, or in look-alike schemes', () => {
    expect(read('DPoP abc', false)).toBeUndefined()
    for (const header of ['DPoPx abc', 'DPo abc', 'DPoP-abc']) expect(read(header), header).toBeUndefined()
  })

  it('refuses the DPoP scheme without exactly one token68', () => {
    for (const header of ['DPoP', 'DPoP ', 'DPoP a b', 'DPoP a,b', 'DPoP "a"']) {
      expect(() => read(header), header).toThrow(InvalidRequestError)
    }
    expect(() => read('DPoP ')).toThrow(/DPoP scheme but no token/)
    expect(() => read('DPoP a b')).toThrow(/RFC 9449 section 7.1/)
  })

  it('counts DPoP header lines in node rawHeaders', () => {
    expect(countDpopHeaders(['DPoP', 'a', 'Host', 'x', 'dpop', 'b'])).toBe(2)
    expect(countDpopHeaders(['Host', 'x', 'DPoP-Nonce', 'n'])).toBe(0)
  })
})
