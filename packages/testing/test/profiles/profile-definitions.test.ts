/**
 * The provider profiles as data: where each provider puts its issuer and endpoints, what header
 * `typ` and claims its access tokens carry. Every expected value is the provider's documented (or
 * observed) one, written out here, never read back from the profile.
 */
import { ConfigurationError } from '@oauth-m2m/core'
import { Agent } from 'undici'
import { describe, expect, it } from 'vitest'
import { AUTH0_TEST_CLIENT_ID } from '../../src/profiles/auth0-profile.js'
import { COGNITO_TEST_CLIENT_ID } from '../../src/profiles/cognito-profile.js'
import { ENTRA_TEST_CLIENT_ID } from '../../src/profiles/entra-profile.js'
import { OKTA_TEST_CLIENT_ID } from '../../src/profiles/okta-profile.js'
import { profileVerifierOptions } from '../../src/profiles/profile-binding.js'
import type { ProfileSignContext, ProviderProfile } from '../../src/profiles/provider-profile.js'
import { resolveProfile } from '../../src/profiles/resolve-profile.js'

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47'
const API_APP = '6e74172b-be56-4843-9ff4-e66a39bb12e3'
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

function profile(option: Parameters<typeof resolveProfile>[0], origin?: string): ProviderProfile {
  const resolved = resolveProfile(option, { origin })
  if (resolved === undefined) throw new Error('expected a provider profile')
  return resolved
}

/** The server's RFC 9068 claims for `clientId`, as the server's beforeSign context gives them. */
function context(clientId: string, scopes: string[], method = 'client_secret_basic'): ProfileSignContext {
  return {
    client: { client_id: clientId, token_endpoint_auth_method: method },
    scopes,
    claims: {
      iss: 'https://issuer.example',
      sub: clientId,
      aud: 'aud-from-server',
      iat: 1_700_000_000,
      exp: 1_700_003_600,
      jti: 'server-jti',
      client_id: clientId,
      scope: scopes.join(' '),
    },
  }
}

/** The claims as the server would issue them after merging the profile's changes over its own. */
function issued(p: ProviderProfile, ctx: ProfileSignContext): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...ctx.claims, ...p.claims(ctx) }
  for (const [name, value] of Object.entries(merged)) if (value === undefined) delete merged[name]
  return merged
}

describe('resolveProfile', () => {
  it('gives no provider profile for rfc9068, the default', () => {
    expect(resolveProfile(undefined)).toBeUndefined()
    expect(resolveProfile('rfc9068')).toBeUndefined()
    expect(resolveProfile({ name: 'rfc9068' })).toBeUndefined()
  })

  it('refuses an unknown profile name with a ConfigurationError', () => {
    expect(() => resolveProfile('ping' as never)).toThrow(ConfigurationError)
    expect(() => resolveProfile({ name: 'azure' } as never)).toThrow(/profile must be one of/)
  })

  it("refuses settings the provider's verifier preset refuses", () => {
    expect(() => resolveProfile({ name: 'entra', tenantId: 'contoso.onmicrosoft.com' })).toThrow(
      ConfigurationError,
    )
    expect(() => resolveProfile({ name: 'keycloak', audience: 'account' })).toThrow(ConfigurationError)
    expect(() =>
      resolveProfile({ name: 'cognito', region: 'us-east-1', userPoolId: 'eu-west-1_abc' }),
    ).toThrow(ConfigurationError)
  })
})

describe('profile settings of the wrong type or shape', () => {
  it.each([
    ['entra', { tenantId: 5 }, 'tenantId'],
    ['entra', { apiAppId: 5 }, 'apiAppId'],
    ['entra', { apiAppId: 'my-api' }, 'apiAppId'],
    ['entra', { appIdUri: 7 }, 'appIdUri'],
    ['entra', { appIdUri: 'not a uri' }, 'appIdUri'],
    ['auth0', { domain: 5 }, 'domain'],
    ['auth0', { domain: 'https://acme.auth0.com' }, 'domain'],
    ['auth0', { audience: 5 }, 'audience'],
    ['auth0', { audience: '' }, 'audience'],
    ['auth0', { tokenDialect: 'bogus' }, 'tokenDialect'],
    ['auth0', { defaultAudience: 5 }, 'defaultAudience'],
    ['okta', { domain: 5 }, 'domain'],
    ['okta', { domain: 'acme.okta.com/evil' }, 'domain'],
    ['okta', { authorizationServerId: 5 }, 'authorizationServerId'],
    ['okta', { authorizationServerId: '' }, 'authorizationServerId'],
    ['okta', { audience: ['api://default'] }, 'audience'],
    ['keycloak', { baseUrl: 5 }, 'baseUrl'],
    ['keycloak', { realm: 5 }, 'realm'],
    ['keycloak', { audience: 5 }, 'audience'],
    ['keycloak', { atJwtHeader: 'yes' }, 'atJwtHeader'],
    ['cognito', { region: 5 }, 'region'],
    ['cognito', { userPoolId: 5 }, 'userPoolId'],
    ['cognito', { domainPrefix: 'A B' }, 'domainPrefix'],
    ['cognito', { domainPrefix: 5 }, 'domainPrefix'],
    ['cognito', { resourceServer: 'two words' }, 'resourceServer'],
    ['cognito', { resourceServer: 5 }, 'resourceServer'],
    ['auth0', { tenant: 'acme' }, 'tenant'],
    ['entra', { tenantID: TENANT }, 'tenantID'],
    ['rfc9068', { issuer: 'https://as.example' }, 'issuer'],
  ])('%s %o: a ConfigurationError naming %s', (name, settings, member) => {
    let thrown: unknown
    try {
      resolveProfile({ name, ...settings } as never)
    } catch (error) {
      thrown = error
    }
    expect(thrown).toBeInstanceOf(ConfigurationError)
    expect((thrown as Error).message).toContain(member)
  })

  it('accepts every setting of the right shape', () => {
    expect(() =>
      resolveProfile({
        name: 'auth0',
        domain: 'Acme.EU.auth0.com',
        audience: 'orders-api',
        tokenDialect: 'rfc9068_profile_authz',
        defaultAudience: 'orders-api',
      }),
    ).not.toThrow()
    expect(() =>
      resolveProfile({
        name: 'cognito',
        region: 'eu-west-1',
        domainPrefix: 'my-pool-1',
        resourceServer: 'orders',
      }),
    ).not.toThrow()
    expect(() => resolveProfile({ name: 'keycloak', atJwtHeader: true, realm: 'Orders' })).not.toThrow()
  })
})

describe('entra profile (v2.0 tokens)', () => {
  const entra = profile({ name: 'entra', tenantId: TENANT, apiAppId: API_APP })

  it('puts the issuer, token endpoint, discovery and keys at the tenant v2.0 URLs', () => {
    expect(entra.issuer).toBe(`https://login.microsoftonline.com/${TENANT}/v2.0`)
    expect(entra.endpoints.token).toBe(`https://login.microsoftonline.com/${TENANT}/oauth2/v2.0/token`)
    expect(entra.endpoints.jwks).toBe(`https://login.microsoftonline.com/${TENANT}/discovery/v2.0/keys`)
    expect(entra.endpoints.metadata).toEqual([
      `https://login.microsoftonline.com/${TENANT}/v2.0/.well-known/openid-configuration`,
    ])
    expect(entra.hosts).toEqual(['login.microsoftonline.com'])
  })

  it('signs with header typ JWT', () => {
    expect(entra.accessTokenTyp).toBe('JWT')
  })

  it('issues app-only v2.0 claims: azp, azpacr, roles, tid, oid = sub, ver 2.0, idtyp app, uti, nbf; no scope, client_id, jti', () => {
    const claims = issued(entra, context('535fb089-9ff3-47b6-9bfb-4f1264799865', ['Orders.Read.All']))
    expect(claims).toMatchObject({
      azp: '535fb089-9ff3-47b6-9bfb-4f1264799865',
      azpacr: '1',
      roles: ['Orders.Read.All'],
      tid: TENANT,
      ver: '2.0',
      idtyp: 'app',
      nbf: 1_700_000_000,
    })
    expect(claims.oid).toMatch(GUID)
    expect(claims.sub).toBe(claims.oid)
    expect(claims.uti).toMatch(/^[A-Za-z0-9_-]{22}$/)
    for (const absent of ['scope', 'scp', 'client_id', 'jti', 'appid'])
      expect(claims).not.toHaveProperty(absent)
    expect(entra.resource.audience).toBe(API_APP)
  })

  it('leaves roles out when the client was granted none, and says azpacr 2 for a certificate', () => {
    const claims = issued(entra, context('c1', [], 'private_key_jwt'))
    expect(claims).not.toHaveProperty('roles')
    expect(claims.azpacr).toBe('2')
  })

  it('gives the same service principal id to the same client, another to another client', () => {
    const a = issued(entra, context('client-a', []))
    expect(issued(entra, context('client-a', [])).oid).toBe(a.oid)
    expect(issued(entra, context('client-b', [])).oid).not.toBe(a.oid)
  })

  it('uses a GUID client id for its default client', () => {
    expect(ENTRA_TEST_CLIENT_ID).toMatch(GUID)
  })
})

describe('auth0 profile', () => {
  const auth0 = profile({ name: 'auth0', domain: 'acme.us.auth0.com', audience: 'https://api.acme.example' })

  it('puts the issuer (trailing slash), token endpoint, discovery and keys on the tenant domain', () => {
    expect(auth0.issuer).toBe('https://acme.us.auth0.com/')
    expect(auth0.endpoints.token).toBe('https://acme.us.auth0.com/oauth/token')
    expect(auth0.endpoints.jwks).toBe('https://acme.us.auth0.com/.well-known/jwks.json')
    expect(auth0.endpoints.metadata).toEqual(['https://acme.us.auth0.com/.well-known/openid-configuration'])
  })

  it('issues Auth0-profile claims by default: sub {client}@clients, azp, gty, scope; typ JWT; no client_id, jti', () => {
    expect(auth0.accessTokenTyp).toBe('JWT')
    const claims = issued(auth0, context('OOZH6s5sgOORoVKBMNRu0xRd4I3dl5T7', ['read:orders']))
    expect(claims).toMatchObject({
      sub: 'OOZH6s5sgOORoVKBMNRu0xRd4I3dl5T7@clients',
      azp: 'OOZH6s5sgOORoVKBMNRu0xRd4I3dl5T7',
      gty: 'client-credentials',
      scope: 'read:orders',
    })
    for (const absent of ['client_id', 'jti', 'permissions']) expect(claims).not.toHaveProperty(absent)
  })

  it('adds permissions with the authz dialect', () => {
    const authz = profile({ name: 'auth0', tokenDialect: 'access_token_authz' })
    expect(issued(authz, context('c', ['read:orders', 'write:orders'])).permissions).toEqual([
      'read:orders',
      'write:orders',
    ])
  })

  it('issues RFC 9068-profile claims with that dialect: typ at+jwt, client_id, jti, no gty, no azp', () => {
    const rfc = profile({ name: 'auth0', tokenDialect: 'rfc9068_profile' })
    expect(rfc.accessTokenTyp).toBe('at+jwt')
    const claims = issued(rfc, context('abc', ['read:orders']))
    expect(claims).toMatchObject({ sub: 'abc@clients', client_id: 'abc', scope: 'read:orders' })
    expect(claims.jti).toEqual(expect.any(String))
    expect(claims.jti).not.toBe('server-jti')
    expect(claims).not.toHaveProperty('gty')
    expect(claims).not.toHaveProperty('azp')
  })

  it('uses a 32-character client id for its default client', () => {
    expect(AUTH0_TEST_CLIENT_ID).toMatch(/^[A-Za-z0-9]{32}$/)
  })
})

describe('okta profile (custom authorization server)', () => {
  const okta = profile({ name: 'okta', domain: 'dev-123456.okta.com' })

  it('puts the issuer (no trailing slash) and /v1 endpoints under /oauth2/default', () => {
    expect(okta.issuer).toBe('https://dev-123456.okta.com/oauth2/default')
    expect(okta.endpoints.token).toBe('https://dev-123456.okta.com/oauth2/default/v1/token')
    expect(okta.endpoints.jwks).toBe('https://dev-123456.okta.com/oauth2/default/v1/keys')
    expect(okta.endpoints.metadata).toEqual([
      'https://dev-123456.okta.com/oauth2/default/.well-known/oauth-authorization-server',
      'https://dev-123456.okta.com/oauth2/default/.well-known/openid-configuration',
    ])
    expect(okta.audience).toBe('api://default')
  })

  it('issues ver 1, jti AT.…, cid, scp array, sub = cid; no typ, no uid, no client_id, no scope', () => {
    expect(okta.accessTokenTyp).toBeNull()
    const claims = issued(okta, context('0oa8acv8gbBPRCZ7I5d7', ['orders.read']))
    expect(claims).toMatchObject({
      ver: 1,
      cid: '0oa8acv8gbBPRCZ7I5d7',
      scp: ['orders.read'],
      sub: '0oa8acv8gbBPRCZ7I5d7',
    })
    expect(claims.jti).toMatch(/^AT\.[A-Za-z0-9_-]+$/)
    for (const absent of ['uid', 'client_id', 'scope']) expect(claims).not.toHaveProperty(absent)
  })

  it('uses a 0oa… client id of 20 characters for its default client', () => {
    expect(OKTA_TEST_CLIENT_ID).toMatch(/^0oa[A-Za-z0-9]{17}$/)
  })
})

describe('keycloak profile', () => {
  const kc = profile({
    name: 'keycloak',
    baseUrl: 'https://sso.example.com',
    realm: 'acme',
    audience: 'orders-api',
  })

  it('puts the issuer and protocol/openid-connect endpoints under /realms/{realm}', () => {
    expect(kc.issuer).toBe('https://sso.example.com/realms/acme')
    expect(kc.endpoints.token).toBe('https://sso.example.com/realms/acme/protocol/openid-connect/token')
    expect(kc.endpoints.jwks).toBe('https://sso.example.com/realms/acme/protocol/openid-connect/certs')
    expect(kc.endpoints.metadata).toEqual([
      'https://sso.example.com/realms/acme/.well-known/openid-configuration',
    ])
  })

  it('keeps a legacy /auth context path', () => {
    expect(profile({ name: 'keycloak', baseUrl: 'https://sso.example.com/auth', realm: 'acme' }).issuer).toBe(
      'https://sso.example.com/auth/realms/acme',
    )
  })

  it('issues service-account claims: typ Bearer, azp, sub UUID, preferred_username, realm_access, scope string', () => {
    expect(kc.accessTokenTyp).toBe('JWT')
    const claims = issued(kc, context('orders-job', ['profile', 'email']))
    expect(claims).toMatchObject({
      typ: 'Bearer',
      azp: 'orders-job',
      client_id: 'orders-job',
      preferred_username: 'service-account-orders-job',
      scope: 'profile email',
      aud: ['orders-api', 'account'],
      realm_access: { roles: ['default-roles-acme', 'offline_access', 'uma_authorization'] },
    })
    expect(claims.sub).toMatch(GUID)
  })

  it('says at+jwt in the header when the client opted in', () => {
    expect(profile({ name: 'keycloak', atJwtHeader: true }).accessTokenTyp).toBe('at+jwt')
  })
})

describe('cognito profile', () => {
  const cog = profile({
    name: 'cognito',
    region: 'us-west-2',
    userPoolId: 'us-west-2_example',
    domainPrefix: 'acme',
  })

  it('puts the issuer and keys on cognito-idp, the token endpoint on the pool domain', () => {
    expect(cog.issuer).toBe('https://cognito-idp.us-west-2.amazonaws.com/us-west-2_example')
    expect(cog.endpoints.jwks).toBe(
      'https://cognito-idp.us-west-2.amazonaws.com/us-west-2_example/.well-known/jwks.json',
    )
    expect(cog.endpoints.metadata).toEqual([
      'https://cognito-idp.us-west-2.amazonaws.com/us-west-2_example/.well-known/openid-configuration',
    ])
    expect(cog.endpoints.token).toBe('https://acme.auth.us-west-2.amazoncognito.com/oauth2/token')
    expect(cog.hosts).toEqual([
      'cognito-idp.us-west-2.amazonaws.com',
      'acme.auth.us-west-2.amazoncognito.com',
    ])
  })

  it('issues token_use access, client_id, scope, version 2 and no aud; no typ', () => {
    expect(cog.accessTokenTyp).toBeNull()
    const claims = issued(cog, context('57cbishk4j24pabc1234567890', ['https://api.example.com/orders.read']))
    expect(claims).toMatchObject({
      token_use: 'access',
      client_id: '57cbishk4j24pabc1234567890',
      scope: 'https://api.example.com/orders.read',
      version: 2,
    })
    expect(claims).not.toHaveProperty('aud')
    expect(claims.jti).toMatch(GUID)
    expect(cog.audience).toBeUndefined()
  })

  it('gives its default client resource-server scopes and a 26-character client id', () => {
    expect(cog.defaultClient.scope).toBe('https://api.example.test/read https://api.example.test/write')
    expect(COGNITO_TEST_CLIENT_ID).toMatch(/^[a-z0-9]{26}$/)
  })
})

describe('listener-origin mode (for a server run outside Node)', () => {
  const origin = 'http://127.0.0.1:4000'

  it("keeps the provider's paths on the given origin", () => {
    const entra = profile({ name: 'entra', tenantId: TENANT }, origin)
    expect(entra.issuer).toBe(`${origin}/${TENANT}/v2.0`)
    expect(entra.endpoints.token).toBe(`${origin}/${TENANT}/oauth2/v2.0/token`)
    expect(entra.hosts).toEqual(['127.0.0.1:4000'])
    const cog = profile('cognito', origin)
    expect(cog.endpoints.token).toBe(`${origin}/oauth2/token`)
    expect(cog.hosts).toEqual(['127.0.0.1:4000'])
    expect(profile('auth0', origin).issuer).toBe(`${origin}/`)
  })

  it("overrides the preset's issuer and jwksUri with the listener's, and keeps the rest of the preset", () => {
    const dispatcher = new Agent()
    const options = profileVerifierOptions(profile({ name: 'okta' }, origin), dispatcher, ['c'])
    expect(options).toMatchObject({
      issuer: `${origin}/oauth2/default`,
      jwksUri: `${origin}/oauth2/default/v1/keys`,
      algorithms: ['RS256'],
      claims: { clientId: ['cid'], scopes: ['scp'] },
    })
    expect(options.dispatcher).toBe(dispatcher)
    void dispatcher.close()
  })

  it("hands out the provider's preset unchanged otherwise", () => {
    const dispatcher = new Agent()
    const entra = profile({ name: 'entra', tenantId: TENANT, apiAppId: API_APP })
    const options = profileVerifierOptions(entra, dispatcher, [])
    expect(options).toMatchObject({
      issuer: `https://login.microsoftonline.com/${TENANT}/v2.0`,
      audience: API_APP,
      jwksUri: `https://login.microsoftonline.com/${TENANT}/discovery/v2.0/keys`,
    })
    void dispatcher.close()
  })
})
