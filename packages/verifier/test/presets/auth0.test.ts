/**
 * auth0(): access tokens of both Auth0 access-token profiles (the Auth0 profile: `typ: JWT`,
 * `azp`, `gty`; the RFC 9068 profile: `typ: at+jwt`, `client_id`, `jti`) as Auth0 documents them,
 * verified with keys served at https://{domain}/.well-known/jwks.json.
 */
import { ConfigurationError } from '@oauth-m2m/core'
import { type Auth0PresetOptions, auth0 } from '@oauth-m2m/verifier'
import { describe, expect, it } from 'vitest'
import { type Claims, providerConformance } from './provider-harness.js'

const DOMAIN = 'acme.us.auth0.com'
const ISSUER = 'https://acme.us.auth0.com/'
const KEYS = 'https://acme.us.auth0.com/.well-known/jwks.json'
const API = 'https://api.acme.example'
const CLIENT = 'OOZH6s5sgOORoVKBMNRu0xRd4I3dl5T7'

/** Auth0's JWKs: alg, kty, use, n, e, kid, x5t (and x5c). */
const auth0Jwk = ({ n, e, kid }: { n?: string; e?: string; kid?: string }) => ({
  alg: 'RS256',
  kty: 'RSA',
  use: 'sig',
  n,
  e,
  kid,
  x5t: 'ZjgwNEI2NDkzNTRDQTUzNkM1MTE1MjRGMzc5NTdBNDM',
})

/** An ID token: aud is the application's client ID, with user claims. */
const idToken = (now: number) => ({
  header: { alg: 'RS256', typ: 'JWT', kid: 'provider-key-1' },
  claims: {
    iss: ISSUER,
    sub: 'auth0|64b7f0c1e2a3b4c5d6e7f809',
    aud: CLIENT,
    iat: now,
    exp: now + 36000,
    nonce: 'n-0S6_WzA2Mj',
    name: 'Jane Doe',
    email: 'jane@acme.example',
    sid: 'Hw0mN6bQ6l7V0Hc6',
  },
})

const shared = {
  preset: auth0({ domain: DOMAIN, audience: API }),
  jwksUrl: KEYS,
  jwk: auth0Jwk,
  otherIssuer: (c: Claims) => ({ ...c, iss: 'https://other-tenant.us.auth0.com/' }),
  wrongAudienceOrClient: (c: Claims) => ({ ...c, aud: 'https://api.other.example' }),
  idToken,
}

describe('auth0, Auth0 token profile (typ JWT, azp, permissions)', () => {
  providerConformance(() => ({
    ...shared,
    header: (kid) => ({ alg: 'RS256', typ: 'JWT', kid }),
    claims: (now) => ({
      iss: ISSUER,
      sub: `${CLIENT}@clients`,
      aud: API,
      iat: now,
      exp: now + 86400,
      scope: 'read:orders write:orders',
      gty: 'client-credentials',
      azp: CLIENT,
      permissions: ['read:orders', 'write:orders', 'delete:orders'],
    }),
    principal: { clientId: CLIENT, scopes: ['read:orders', 'write:orders', 'delete:orders'] },
    badScopes: (c) => ({ ...c, permissions: { 'read:orders': true } }),
  }))
})

describe('auth0, RFC 9068 token profile (typ at+jwt, client_id)', () => {
  providerConformance(() => ({
    ...shared,
    header: (kid) => ({ alg: 'RS256', typ: 'at+jwt', kid }),
    claims: (now) => ({
      iss: ISSUER,
      sub: `${CLIENT}@clients`,
      aud: API,
      client_id: CLIENT,
      iat: now,
      exp: now + 86400,
      jti: '73WakrfVbNJBaAmhQtEeDv',
      scope: 'read:orders write:orders',
    }),
    principal: { clientId: CLIENT, scopes: ['read:orders', 'write:orders'] },
    badScopes: (c) => ({ ...c, scope: { 'read:orders': true } }),
  }))
})

describe('auth0 options', () => {
  it('returns the documented issuer (trailing slash), key URL, typ policy, algorithms and claim names', () => {
    expect(auth0({ domain: 'Acme.US.auth0.com', audience: API })).toEqual({
      issuer: ISSUER,
      audience: API,
      jwksUri: KEYS,
      algorithms: ['RS256'],
      typ: 'lenient',
      claims: { clientId: ['client_id', 'azp'], scopes: ['scope', 'permissions'] },
    })
    expect(auth0({ domain: 'login.acme.example', audience: API }).issuer).toBe('https://login.acme.example/')
  })

  it('refuses a domain that is not a bare host name', () => {
    const bad: [unknown, RegExp][] = [
      [
        { domain: 'https://acme.us.auth0.com', audience: API },
        /domain is a host name such as acme.us.auth0.com, without a scheme/,
      ],
      [{ domain: 'acme.us.auth0.com/', audience: API }, /domain must not contain/],
      [{ domain: 'acme.us.auth0.com:8443', audience: API }, /domain must be a host name/],
      [{ domain: 'acme', audience: API }, /domain must be a host name/],
      [{ domain: 'evil.example#.auth0.com', audience: API }, /domain must not contain/],
      [{ domain: 'user@acme.us.auth0.com', audience: API }, /domain must not contain/],
      [{ domain: '', audience: API }, /domain must be a non-empty string/],
      [{ domain: DOMAIN, audience: ' ' }, /audience must hold non-empty strings/],
      [{ domain: DOMAIN }, /audience must be a non-empty/],
    ]
    for (const [options, message] of bad) {
      const call = () => auth0(options as Auth0PresetOptions)
      expect(call, JSON.stringify(options)).toThrow(ConfigurationError)
      expect(call, JSON.stringify(options)).toThrow(message)
    }
  })
})
