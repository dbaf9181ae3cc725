import {
  InsufficientScopeError,
  InvalidDpopProofError,
  InvalidRequestError,
  InvalidTokenError,
  TemporarilyUnavailableError,
  toWWWAuthenticate,
} from '@oauth-m2m/verifier'
import { describe, expect, it } from 'vitest'

describe('toWWWAuthenticate', () => {
  it('names only the realm when the request carried no token (RFC 6750 §3.1)', () => {
    expect(toWWWAuthenticate(undefined, { realm: 'api' })).toBe('Bearer realm="api"')
  })

  it('is the bare scheme with neither realm nor error', () => {
    expect(toWWWAuthenticate()).toBe('Bearer')
  })

  it('gives invalid_token with its description', () => {
    expect(toWWWAuthenticate(new InvalidTokenError('the token has expired'), { realm: 'api' })).toBe(
      'Bearer realm="api", error="invalid_token", error_description="the token has expired"',
    )
  })

  it('adds the required scopes to insufficient_scope', () => {
    expect(
      toWWWAuthenticate(new InsufficientScopeError(['read:things', 'write:things']), { realm: 'api' }),
    ).toBe(
      'Bearer realm="api", error="insufficient_scope", error_description="the token lacks required scope: read:things write:things", scope="read:things write:things"',
    )
  })

  it('lets the caller choose the advertised scopes', () => {
    expect(toWWWAuthenticate(undefined, { realm: 'api', scope: ['a', 'b'] })).toBe(
      'Bearer realm="api", scope="a b"',
    )
  })

  it('gives invalid_request and temporarily_unavailable with their codes', () => {
    expect(toWWWAuthenticate(new InvalidRequestError('several credentials'))).toBe(
      'Bearer error="invalid_request", error_description="several credentials"',
    )
    expect(toWWWAuthenticate(new TemporarilyUnavailableError('keys unavailable'), { realm: 'r' })).toBe(
      'Bearer realm="r", error="temporarily_unavailable", error_description="keys unavailable"',
    )
  })

  it('escapes quotes and backslashes in the realm and strips control characters', () => {
    expect(toWWWAuthenticate(undefined, { realm: 'a "b" \\c\r\nSet-Cookie: x' })).toBe(
      'Bearer realm="a \\"b\\" \\\\cSet-Cookie: x"',
    )
  })

  it('keeps descriptions inside the RFC 6750 character set', () => {
    const header = toWWWAuthenticate(new InvalidTokenError('bad "kid" \\ é\r\n\tvalue'))
    expect(header).toBe('Bearer error="invalid_token", error_description="bad \'kid\'  value"')
  })

  it('leaves out scope tokens outside the RFC 6750 character set', () => {
    expect(toWWWAuthenticate(new InsufficientScopeError(['ok', 'bad"one', 'sp ace', '']))).toBe(
      'Bearer error="insufficient_scope", error_description="the token lacks required scope: ok bad\'one sp ace ", scope="ok"',
    )
  })
})

describe('toWWWAuthenticate for the DPoP scheme (RFC 9449 §7.1)', () => {
  it('names the scheme and the accepted algorithms', () => {
    expect(toWWWAuthenticate(undefined, { scheme: 'DPoP', algs: ['ES256', 'PS256'] })).toBe(
      'DPoP algs="ES256 PS256"',
    )
    expect(toWWWAuthenticate(undefined, { scheme: 'DPoP' })).toBe('DPoP')
  })

  it('puts the error before algs and resource_metadata last', () => {
    expect(
      toWWWAuthenticate(new InvalidDpopProofError('the DPoP proof is too old ("iat")'), {
        scheme: 'DPoP',
        realm: 'api',
        algs: ['ES256'],
        resourceMetadata: 'https://api.example/.well-known/oauth-protected-resource',
      }),
    ).toBe(
      `DPoP realm="api", error="invalid_dpop_proof", error_description="the DPoP proof is too old ('iat')", algs="ES256", resource_metadata="https://api.example/.well-known/oauth-protected-resource"`,
    )
  })

  it('leaves out algorithm names that are not tokens, and algs on Bearer', () => {
    expect(toWWWAuthenticate(undefined, { scheme: 'DPoP', algs: ['ES256', 'a"b', 'x y'] })).toBe(
      'DPoP algs="ES256"',
    )
    expect(toWWWAuthenticate(undefined, { algs: ['ES256'] })).toBe('Bearer')
  })
})
