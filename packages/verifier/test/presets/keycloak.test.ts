/**
 * keycloak(): service-account access tokens of a Keycloak realm as Keycloak writes them (header
 * `typ: JWT`, the `typ: "Bearer"` claim, `azp` and `client_id`, `scope` string, roles in
 * `realm_access`), verified with keys served at {issuer}/protocol/openid-connect/certs.
 */
import { ConfigurationError } from '@oauth-m2m/core'
import { InvalidTokenError, type KeycloakPresetOptions, keycloak } from '@oauth-m2m/verifier'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeKey, type TestKey } from '../support/keys.js'
import {
  type Claims,
  type KeyServer,
  keyServer,
  nowSec,
  providerConformance,
  sign,
  verdict,
} from './provider-harness.js'

const ISSUER = 'https://sso.example.com/realms/acme'
const KEYS = 'https://sso.example.com/realms/acme/protocol/openid-connect/certs'
const API = 'orders-api'

const keycloakJwk = ({ n, e, kid }: { n?: string; e?: string; kid?: string }) => ({
  kid,
  kty: 'RSA',
  alg: 'RS256',
  use: 'sig',
  n,
  e,
})

/** A service-account token of client orders-job, with an audience mapper adding orders-api. */
function serviceAccountClaims(now: number): Claims {
  return {
    exp: now + 300,
    iat: now,
    jti: 'f0a77b46-3f2c-45ae-a1d2-cfe3be01a7f8',
    iss: ISSUER,
    aud: [API, 'account'],
    sub: 'bc2a72f4-d923-459a-be07-e37419516704',
    typ: 'Bearer',
    azp: 'orders-job',
    acr: '1',
    'allowed-origins': ['/*'],
    realm_access: { roles: ['default-roles-acme', 'offline_access', 'uma_authorization'] },
    resource_access: { account: { roles: ['manage-account', 'view-profile'] } },
    scope: 'profile email',
    email_verified: false,
    clientHost: '172.20.0.1',
    preferred_username: 'service-account-orders-job',
    clientAddress: '172.20.0.1',
    client_id: 'orders-job',
  }
}

/** The ID token a client-credentials request with scope=openid also gets. */
function idTokenClaims(now: number, aud: string | string[]): Claims {
  return {
    exp: now + 300,
    iat: now,
    jti: '5b1c6a58-4e0b-4b47-9a0e-3f3f1b7f2a10',
    iss: ISSUER,
    aud,
    sub: 'bc2a72f4-d923-459a-be07-e37419516704',
    typ: 'ID',
    azp: 'orders-job',
    at_hash: 'xfV2f0yQ0f3mL0zY2cA3Rw',
    acr: '1',
    email_verified: false,
    preferred_username: 'service-account-orders-job',
    clientHost: '172.20.0.1',
    clientAddress: '172.20.0.1',
    client_id: 'orders-job',
  }
}

describe('keycloak, service-account tokens', () => {
  providerConformance(() => ({
    preset: keycloak({ baseUrl: 'https://sso.example.com', realm: 'acme', audience: API }),
    jwksUrl: KEYS,
    jwk: keycloakJwk,
    header: (kid) => ({ alg: 'RS256', typ: 'JWT', kid }),
    claims: serviceAccountClaims,
    principal: { clientId: 'orders-job', scopes: ['profile', 'email'] },
    otherIssuer: (c) => ({ ...c, iss: 'https://sso.example.com/realms/other' }),
    // Keycloak's default audience: every client's tokens carry it.
    wrongAudienceOrClient: (c) => ({ ...c, aud: 'account' }),
    idToken: (now) => ({ claims: idTokenClaims(now, 'orders-job') }),
    badScopes: (c) => ({ ...c, scope: { profile: true } }),
  }))
})

describe('keycloak, beyond the shared cases', () => {
  let key: TestKey
  let server: KeyServer

  beforeAll(async () => {
    key = await makeKey('RS256', 'kc-extra')
    server = keyServer(KEYS, () => [keycloakJwk(key.publicJwk)])
  })
  afterAll(() => server.dispatcher.close())

  const preset = () => ({
    ...keycloak({ baseUrl: 'https://sso.example.com/', realm: 'acme', audience: API }),
    dispatcher: server.dispatcher,
  })
  const header = { alg: 'RS256', typ: 'JWT', kid: 'kc-extra' }

  it('refuses an ID token whose aud names the API too: its typ claim is "ID", not "Bearer"', async () => {
    const outcome = await verdict(preset(), sign(key, header, idTokenClaims(nowSec(), [API, 'orders-job'])))
    expect(outcome).toBeInstanceOf(InvalidTokenError)
    expect((outcome as Error).message).toBe(
      'the token is not a Keycloak access token (its "typ" claim is not "Bearer")',
    )
  })

  it('refuses refresh and offline tokens by their typ claim', async () => {
    for (const typ of ['Refresh', 'Offline', 42]) {
      const outcome = await verdict(preset(), sign(key, header, { ...serviceAccountClaims(nowSec()), typ }))
      expect(outcome, String(typ)).toBeInstanceOf(InvalidTokenError)
    }
  })

  it('refuses a token without the typ claim, which every Keycloak access token carries', async () => {
    const { typ: _, ...withoutTyp } = serviceAccountClaims(nowSec())
    const outcome = await verdict(preset(), sign(key, header, withoutTyp))
    expect(outcome).toBeInstanceOf(InvalidTokenError)
    expect((outcome as Error).message).toBe(
      'the token is not a Keycloak access token (its "typ" claim is not "Bearer")',
    )
  })

  it('accepts the typ claim in any letter case', async () => {
    const outcome = await verdict(
      preset(),
      sign(key, header, { ...serviceAccountClaims(nowSec()), typ: 'bearer' }),
    )
    if (outcome instanceof Error) throw outcome
    expect(outcome.clientId).toBe('orders-job')
  })

  it('accepts the at+jwt header of clients that opted in to RFC 9068', async () => {
    const outcome = await verdict(
      preset(),
      sign(key, { ...header, typ: 'at+jwt' }, serviceAccountClaims(nowSec())),
    )
    if (outcome instanceof Error) throw outcome
    expect(outcome.clientId).toBe('orders-job')
  })

  it('reads the client from azp, then the clientId claim of older servers, when client_id is absent', async () => {
    const { client_id: _, ...withoutClientId } = serviceAccountClaims(nowSec())
    const fromAzp = await verdict(preset(), sign(key, header, { ...withoutClientId, azp: 'from-azp' }))
    if (fromAzp instanceof Error) throw fromAzp
    expect(fromAzp.clientId).toBe('from-azp')
    const { azp: __, ...older } = withoutClientId
    const fromOld = await verdict(preset(), sign(key, header, { ...older, clientId: 'legacy-job' }))
    if (fromOld instanceof Error) throw fromOld
    expect(fromOld.clientId).toBe('legacy-job')
  })

  it('accepts the empty scope string of a client without optional scopes', async () => {
    const outcome = await verdict(
      preset(),
      sign(key, header, { ...serviceAccountClaims(nowSec()), scope: '' }),
    )
    if (outcome instanceof Error) throw outcome
    expect(outcome.scopes).toEqual([])
  })
})

describe('keycloak options', () => {
  it('returns the documented issuer and key URL, with the /auth context path kept', () => {
    const options = keycloak({ baseUrl: 'https://SSO.example.com/auth/', realm: 'acme', audience: API })
    expect({ ...options, check: typeof options.check }).toEqual({
      issuer: 'https://sso.example.com/auth/realms/acme',
      audience: API,
      jwksUri: 'https://sso.example.com/auth/realms/acme/protocol/openid-connect/certs',
      algorithms: ['RS256'],
      typ: 'lenient',
      claims: { clientId: ['client_id', 'azp', 'clientId'], scopes: ['scope'] },
      check: 'function',
    })
    expect(keycloak({ baseUrl: 'http://localhost:8080', realm: 'dev', audience: API }).issuer).toBe(
      'http://localhost:8080/realms/dev',
    )
  })

  it('refuses what would build a wrong URL or accept every client of the realm', () => {
    const bad: [unknown, RegExp][] = [
      [
        { baseUrl: 'http://sso.example.com', realm: 'acme', audience: API },
        /baseUrl must be an https URL \(http only to a loopback host\)/,
      ],
      [{ baseUrl: 'sso.example.com', realm: 'acme', audience: API }, /baseUrl must be an absolute URL/],
      [
        { baseUrl: 'https://sso.example.com?x', realm: 'acme', audience: API },
        /must not have a query or fragment/,
      ],
      [{ baseUrl: 'https://sso.example.com', realm: '', audience: API }, /realm must be a non-empty string/],
      [
        { baseUrl: 'https://sso.example.com', realm: 'acme/../master', audience: API },
        /realm must not contain/,
      ],
      [{ baseUrl: 'https://sso.example.com', realm: 'ac me', audience: API }, /realm must not contain/],
      [{ baseUrl: 'https://sso.example.com', realm: 'acme', audience: 'account' }, /audience "account"/],
      [
        { baseUrl: 'https://sso.example.com', realm: 'acme', audience: [API, 'account'] },
        /audience "account"/,
      ],
    ]
    for (const [options, message] of bad) {
      const call = () => keycloak(options as KeycloakPresetOptions)
      expect(call, JSON.stringify(options)).toThrow(ConfigurationError)
      expect(call, JSON.stringify(options)).toThrow(message)
    }
  })
})
