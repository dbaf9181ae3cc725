import {
  InsufficientScopeError,
  InvalidRequestError,
  InvalidTokenError,
  TemporarilyUnavailableError,
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
