/**
 * okta(): access tokens of an Okta custom authorization server as Okta documents them (header
 * with only alg and kid, `cid`, `scp` array, `ver: 1`), verified with keys served at
 * {issuer}/v1/keys.
 */
import { ConfigurationError } from '@oauth-m2m/core'
import { createMswDispatcher } from '@oauth-m2m/testing/msw'
import { type OktaPresetOptions, okta } from '@oauth-m2m/verifier'
import { describe, expect, it } from 'vitest'
import { makeKey } from '../support/keys.js'
import { nowSec, providerConformance, sign, verdict } from './provider-harness.js'

const ISSUER = 'https://dev-123456.okta.com/oauth2/default'
const KEYS = 'https://dev-123456.okta.com/oauth2/default/v1/keys'
const CLIENT = '0oa8acv8gbBPRCZ7I5d7'

describe('okta, custom authorization server', () => {
  providerConformance(() => ({
    preset: okta({ issuer: ISSUER, audience: 'api://default' }),
    jwksUrl: KEYS,
    jwk: ({ n, e, kid }) => ({ kty: 'RSA', alg: 'RS256', kid, use: 'sig', e, n }),
    header: (kid) => ({ kid, alg: 'RS256' }),
    claims: (now) => ({
      ver: 1,
      jti: 'AT.0mP4JKAZX1iACIT4vbEDF7LpvDVjxypPMf0D7uX39RE',
      iss: ISSUER,
      aud: 'api://default',
      iat: now,
      exp: now + 3600,
      cid: CLIENT,
      scp: ['orders.read', 'orders.write'],
      sub: CLIENT,
    }),
    principal: { clientId: CLIENT, scopes: ['orders.read', 'orders.write'] },
    otherIssuer: (c) => ({ ...c, iss: 'https://dev-123456.okta.com/oauth2/aus2o0ther' }),
    wrongAudienceOrClient: (c) => ({ ...c, aud: 'api://other' }),
    // Okta's ID token: aud is the client, jti starts with ID., amr and idp, no cid or scp.
    idToken: (now) => ({
      claims: {
        ver: 1,
        sub: '00uid4BxXw6I6TV4m0g3',
        iss: ISSUER,
        aud: CLIENT,
        iat: now,
        exp: now + 3600,
        jti: 'ID.4eAWJOCMB3SX8XewDfVR',
        amr: ['pwd'],
        idp: '00ouid4BxXw6I6TV4m0g3',
        nonce: 'n-0S6_WzA2Mj',
        auth_time: now,
      },
    }),
    badScopes: (c) => ({ ...c, scp: { 'orders.read': true } }),
  }))
})

describe('okta with a static key set', () => {
  it('verifies with jwks: { keys } once jwksUri is unset, asking no URL', async () => {
    const key = await makeKey('RS256', 'okta-static')
    const { n, e, kid } = key.publicJwk
    const options = {
      ...okta({ issuer: ISSUER, audience: 'api://default' }),
      jwksUri: undefined,
      jwks: { keys: [{ kty: 'RSA', alg: 'RS256', kid, use: 'sig', e, n }] },
      dispatcher: createMswDispatcher([]),
    }
    const now = nowSec()
    const claims = {
      ver: 1,
      iss: ISSUER,
      aud: 'api://default',
      iat: now,
      exp: now + 60,
      cid: CLIENT,
      scp: [],
    }
    const outcome = await verdict(options, sign(key, { kid, alg: 'RS256' }, claims))
    if (outcome instanceof Error) throw outcome
    expect(outcome.clientId).toBe(CLIENT)
  })
})

describe('okta options', () => {
  it('returns the documented key URL, typ policy, algorithms and claim names', () => {
    expect(okta({ issuer: 'https://Dev-123456.okta.com/oauth2/default', audience: 'api://default' })).toEqual(
      {
        issuer: ISSUER,
        audience: 'api://default',
        jwksUri: KEYS,
        algorithms: ['RS256'],
        typ: 'lenient',
        claims: { clientId: ['cid'], scopes: ['scp'] },
      },
    )
  })

  it('refuses an issuer that is not an https custom authorization server', () => {
    const bad: [unknown, RegExp][] = [
      [
        { issuer: 'https://dev-123456.okta.com', audience: 'a' },
        /issuer must be a custom authorization server/,
      ],
      [{ issuer: `${ISSUER}/`, audience: 'a' }, /without a trailing slash/],
      [
        { issuer: 'https://dev-123456.okta.com/oauth2/default/v1', audience: 'a' },
        /custom authorization server/,
      ],
      [{ issuer: 'http://dev-123456.okta.com/oauth2/default', audience: 'a' }, /issuer must be an https URL/],
      [{ issuer: 'http://127.0.0.1/oauth2/default', audience: 'a' }, /issuer must be an https URL/],
      [{ issuer: `${ISSUER}?x=1`, audience: 'a' }, /must not have a query or fragment/],
      [{ issuer: 'dev-123456.okta.com/oauth2/default', audience: 'a' }, /issuer must be an absolute URL/],
      [{ issuer: ISSUER, audience: [] }, /audience must be a non-empty/],
    ]
    for (const [options, message] of bad) {
      const call = () => okta(options as OktaPresetOptions)
      expect(call, JSON.stringify(options)).toThrow(ConfigurationError)
      expect(call, JSON.stringify(options)).toThrow(message)
    }
  })
})
