import {
  InsufficientScopeError,
  InvalidDpopProofError,
  InvalidRequestError,
  InvalidTokenError,
  TemporarilyUnavailableError,
  UseDpopNonceError,
} from '@oauth-m2m/core'
import { describe, expect, it } from 'vitest'
import { challengeFor, isBearerError } from '../../src/middleware/challenge.js'
import { resolveBearerAuthOptions } from '../../src/middleware/options.js'
import { fakeVerifier } from './fake-verifier.js'

const settings = resolveBearerAuthOptions({ verifier: fakeVerifier(), realm: 'api' })
const noRealm = resolveBearerAuthOptions({ verifier: fakeVerifier(), retryAfterSec: 30 })

describe('challengeFor', () => {
  it('answers missing credentials 401 with a challenge that has no error code', () => {
    expect({ ...challengeFor(undefined, settings) }).toEqual({
      status: 401,
      headers: {
        'Content-Type': 'application/json',
        'Cache-Control': 'no-store',
        'WWW-Authenticate': 'Bearer realm="api"',
      },
      body: '{"error_description":"a bearer access token is required"}',
    })
    expect(challengeFor(undefined, noRealm).headers['WWW-Authenticate']).toBe('Bearer')
  })

  it('maps each bearer error to its status with the error code in header and body', () => {
    const cases = [
      [new InvalidRequestError('bad request'), 400],
      [new InvalidTokenError('token expired'), 401],
      [new InsufficientScopeError(['write']), 403],
    ] as const
    for (const [error, status] of cases) {
      const challenge = challengeFor(error, settings)
      expect(challenge.status).toBe(status)
      expect(JSON.parse(challenge.body)).toEqual({ error: error.error, error_description: error.message })
      expect(challenge.headers['WWW-Authenticate']).toMatch(
        new RegExp(`^Bearer realm="api", error="${error.error}"`),
      )
      expect(challenge.headers['Cache-Control']).toBe('no-store')
    }
    expect(
      challengeFor(new InsufficientScopeError(['write', 'admin']), settings).headers['WWW-Authenticate'],
    ).toBe(
      'Bearer realm="api", error="insufficient_scope", error_description="the token lacks required scope: write admin", scope="write admin"',
    )
  })

  it('answers temporarily_unavailable 503 with Retry-After, no challenge and no internal detail', () => {
    const challenge = challengeFor(
      new TemporarilyUnavailableError('JWKS at http://10.1.2.3/jwks timed out'),
      noRealm,
    )
    expect({ ...challenge }).toEqual({
      status: 503,
      headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', 'Retry-After': '30' },
      body: '{"error":"temporarily_unavailable","error_description":"the access token cannot be checked right now; try again later"}',
    })
  })
})

describe('isBearerError', () => {
  it('recognises bearer errors, also from another copy of the core package, and nothing else', () => {
    class ForeignInvalidToken extends Error {
      readonly status = 401
      readonly error = 'invalid_token'
    }
    expect(isBearerError(new InvalidTokenError('x'))).toBe(true)
    expect(isBearerError(new ForeignInvalidToken('x'))).toBe(true)
    expect(isBearerError(Object.assign(new Error('x'), { status: 500, error: 'server_error' }))).toBe(false)
    expect(isBearerError({ status: 401, error: 'invalid_token' })).toBe(false)
    expect(isBearerError(new Error('x'))).toBe(false)
  })
})

describe('challengeFor with DPoP (RFC 9449 §7.1)', () => {
  const both = resolveBearerAuthOptions({
    verifier: { ...fakeVerifier(), dpop: { mode: 'allowed', algorithms: ['ES256', 'EdDSA'] } },
    realm: 'api',
  })
  const dpopOnly = resolveBearerAuthOptions({
    verifier: { ...fakeVerifier(), dpop: { mode: 'required', algorithms: ['ES256'] } },
  })

  it('challenges every accepted scheme when the request had no credentials', () => {
    expect(challengeFor(undefined, both).headers['WWW-Authenticate']).toBe(
      'Bearer realm="api", DPoP realm="api", algs="ES256 EdDSA"',
    )
    expect(challengeFor(undefined, dpopOnly).headers['WWW-Authenticate']).toBe('DPoP algs="ES256"')
  })

  it('puts a token error on the scheme the request used, first', () => {
    const error = new InvalidTokenError('the token has expired')
    expect(challengeFor(error, both, 'DPoP').headers['WWW-Authenticate']).toBe(
      'DPoP realm="api", error="invalid_token", error_description="the token has expired", algs="ES256 EdDSA", Bearer realm="api"',
    )
    expect(challengeFor(error, both, 'Bearer').headers['WWW-Authenticate']).toBe(
      'Bearer realm="api", error="invalid_token", error_description="the token has expired", DPoP realm="api", algs="ES256 EdDSA"',
    )
    // A Bearer request where only DPoP is accepted: the error goes on the DPoP challenge.
    expect(challengeFor(error, dpopOnly, 'Bearer').headers['WWW-Authenticate']).toBe(
      'DPoP error="invalid_token", error_description="the token has expired", algs="ES256"',
    )
  })

  it('puts proof errors on DPoP, with their status; scope on the erring challenge only', () => {
    const twoHeaders = challengeFor(new InvalidDpopProofError('two', { status: 400 }), both, 'DPoP')
    expect(twoHeaders.status).toBe(400)
    expect(twoHeaders.headers['WWW-Authenticate']).toMatch(/^DPoP realm="api", error="invalid_dpop_proof"/)
    expect(
      challengeFor(new InsufficientScopeError(['admin']), both, 'DPoP').headers['WWW-Authenticate'],
    ).toBe(
      'DPoP realm="api", error="insufficient_scope", error_description="the token lacks required scope: admin", scope="admin", algs="ES256 EdDSA", Bearer realm="api"',
    )
  })

  it('sends the fresh nonce of use_dpop_nonce in DPoP-Nonce, and only a well-formed one', () => {
    const challenge = challengeFor(new UseDpopNonceError('need a nonce', { nonce: 'n0nce_-' }), both, 'DPoP')
    expect(challenge.status).toBe(401)
    expect(challenge.headers['DPoP-Nonce']).toBe('n0nce_-')
    expect(challenge.headers['WWW-Authenticate']).toMatch(/^DPoP realm="api", error="use_dpop_nonce"/)
    expect(JSON.parse(challenge.body)).toEqual({ error: 'use_dpop_nonce', error_description: 'need a nonce' })
    for (const nonce of [undefined, 'a"b', 'a\r\nSet-Cookie: x', '']) {
      expect(challengeFor(new UseDpopNonceError('x', { nonce }), both, 'DPoP').headers).not.toHaveProperty(
        'DPoP-Nonce',
      )
    }
  })

  it('treats a verifier that says nothing about DPoP as Bearer only', () => {
    expect(challengeFor(undefined, settings).headers['WWW-Authenticate']).toBe('Bearer realm="api"')
    const odd = resolveBearerAuthOptions({
      verifier: { ...fakeVerifier(), dpop: { mode: 'sometimes' } as never },
    })
    expect(challengeFor(undefined, odd).headers['WWW-Authenticate']).toBe('Bearer')
  })
})
