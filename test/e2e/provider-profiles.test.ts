/**
 * The test server's provider profiles end to end, each against what the provider documents: our
 * token client gets a token through the provider's request rules (from the provider's own URLs,
 * which `as.dispatcher` leads to the loopback listener), the provider's real verifier preset
 * (`as.verifierOptions()`) accepts it, the token's header and claims have the provider's shape,
 * the provider's refusals look like the provider's, and discovery and keys are at its paths.
 *
 * Expected values are the provider's (from the provider notes), written out here.
 */
import { createTokenClient, type TokenClientOptions } from '@oauth-m2m/client'
import { OAuthResponseError } from '@oauth-m2m/core'
import { encodeBasicCredentials } from '@oauth-m2m/core/internal'
import {
  createTestAuthorizationServer,
  type StartedAuthorizationServer,
  startAuthorizationServer,
  type TestAuthorizationServer,
} from '@oauth-m2m/testing'
import { authorizationServerHandlers, createMswDispatcher } from '@oauth-m2m/testing/msw'
import { createVerifier } from '@oauth-m2m/verifier'
import { decodeJwt, decodeProtectedHeader } from 'jose'
import { type Dispatcher, request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47'
const API_APP = '6e74172b-be56-4843-9ff4-e66a39bb12e3'
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/** A token from our client, as the test's application would get it. */
async function clientToken(
  as: TestAuthorizationServer,
  options: Partial<TokenClientOptions> = {},
): Promise<string> {
  const client = createTokenClient({ ...as.createClient(), dispatcher: as.dispatcher, ...options })
  try {
    return (await client.getToken()).accessToken
  } finally {
    await client.close()
  }
}

/** The error our client reports for a refused token request. */
async function clientRefusal(
  as: TestAuthorizationServer,
  options: Partial<TokenClientOptions> = {},
): Promise<OAuthResponseError> {
  const error = await clientToken(as, { retry: false, ...options }).then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(OAuthResponseError)
  return error as OAuthResponseError
}

/** The verifier built from `as.verifierOptions()` (the provider's preset), checking `token`. */
async function verified(as: TestAuthorizationServer, token: string) {
  const verifier = createVerifier(as.verifierOptions())
  try {
    return await verifier.verify(token)
  } finally {
    await verifier.close()
  }
}

/**
 * A raw token request (form or JSON body) through the dispatcher, authenticated as the client is
 * registered (Basic, or credentials in the body): the provider's answer as sent.
 */
async function rawTokenRequest(
  as: TestAuthorizationServer,
  body: Record<string, string>,
  options: { json?: boolean; clientId?: string } = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const { clientId, clientSecret, authMethod } = as.createClient(options.clientId)
  const headers: Record<string, string> = {
    'content-type': options.json ? 'application/json' : 'application/x-www-form-urlencoded',
  }
  const params = { ...body }
  if (authMethod === 'client_secret_post')
    Object.assign(params, { client_id: clientId, client_secret: clientSecret })
  else headers.authorization = encodeBasicCredentials(clientId, clientSecret ?? '')
  const answer = await request(as.tokenEndpoint, {
    method: 'POST',
    dispatcher: as.dispatcher,
    headers,
    body: options.json ? JSON.stringify(params) : new URLSearchParams(params).toString(),
  })
  return { status: answer.statusCode, body: (await answer.body.json()) as Record<string, unknown> }
}

async function getJson(url: string, dispatcher: Dispatcher): Promise<Record<string, unknown>> {
  const answer = await request(url, { dispatcher })
  expect(answer.statusCode).toBe(200)
  return (await answer.body.json()) as Record<string, unknown>
}

/** Discovery at `metadataUrl` names the provider's issuer and keys URL, and the keys are RS256 RSA keys. */
async function expectDiscoveryAndKeys(as: TestAuthorizationServer, metadataUrl: string, jwksUri: string) {
  const metadata = await getJson(metadataUrl, as.dispatcher)
  expect(metadata.issuer).toBe(as.issuer)
  expect(metadata.jwks_uri).toBe(jwksUri)
  expect(metadata.token_endpoint).toBe(as.tokenEndpoint)
  const jwks = (await getJson(jwksUri, as.dispatcher)) as { keys: Record<string, unknown>[] }
  expect(jwks.keys.length).toBeGreaterThan(0)
  for (const key of jwks.keys) expect(key).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig' })
}

describe('entra profile (v2.0 tokens)', () => {
  let as: StartedAuthorizationServer
  beforeAll(async () => {
    as = await startAuthorizationServer({ profile: { name: 'entra', tenantId: TENANT, apiAppId: API_APP } })
  })
  afterAll(() => as.close())

  it('issues from the tenant v2.0 issuer while listening on loopback', () => {
    expect(as.issuer).toBe(`https://login.microsoftonline.com/${TENANT}/v2.0`)
    expect(as.tokenEndpoint).toBe(`https://login.microsoftonline.com/${TENANT}/oauth2/v2.0/token`)
    expect(as.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(as.audience).toBe(API_APP)
  })

  it('gives our client a token for scope={App ID URI}/.default that the real entraId() preset accepts', async () => {
    const token = await clientToken(as, { scope: `api://${API_APP}/.default` })
    const principal = await verified(as, token)
    expect(principal).toMatchObject({ clientId: as.createClient().clientId, scopes: ['read', 'write'] })
  })

  it('shapes the token as Entra documents: typ JWT, RS256, kid; aud = API app id, azp, roles, ver 2.0, no scp', async () => {
    const token = await clientToken(as, { scope: `${API_APP}/.default` })
    expect(decodeProtectedHeader(token)).toEqual({ typ: 'JWT', alg: 'RS256', kid: expect.any(String) })
    const claims = decodeJwt(token)
    expect(claims).toMatchObject({
      iss: `https://login.microsoftonline.com/${TENANT}/v2.0`,
      aud: API_APP,
      azp: as.createClient().clientId,
      azpacr: '1',
      roles: ['read', 'write'],
      tid: TENANT,
      ver: '2.0',
      idtyp: 'app',
    })
    expect(claims.oid).toMatch(GUID)
    expect(claims.sub).toBe(claims.oid)
    expect(claims.nbf).toBe(claims.iat)
    expect(typeof claims.uti).toBe('string')
    for (const absent of ['scp', 'scope', 'client_id', 'appid', 'jti'])
      expect(claims).not.toHaveProperty(absent)
  })

  it('answers like Entra v2: no scope, expires_in and ext_expires_in as numbers', async () => {
    const answer = await rawTokenRequest(as, {
      grant_type: 'client_credentials',
      scope: `api://${API_APP}/.default`,
    })
    expect(answer.status).toBe(200)
    expect(answer.body).toEqual({
      token_type: 'Bearer',
      expires_in: 3599,
      ext_expires_in: 3599,
      access_token: expect.any(String),
    })
  })

  it('refuses a scope that is not {resource}/.default with invalid_scope AADSTS70011, in Entra’s error shape', async () => {
    const refusal = await clientRefusal(as, { scope: 'read' })
    expect(refusal).toMatchObject({ error: 'invalid_scope', status: 400 })
    const answer = await rawTokenRequest(as, { grant_type: 'client_credentials', scope: 'read' })
    expect(answer.body).toMatchObject({ error: 'invalid_scope', error_codes: [70011] })
    for (const member of ['timestamp', 'trace_id', 'correlation_id'])
      expect(answer.body).toHaveProperty(member)
  })

  it('refuses a request without scope with AADSTS900144', async () => {
    const refusal = await clientRefusal(as)
    expect(refusal).toMatchObject({ error: 'invalid_request', status: 400 })
    expect(refusal.errorDescription).toMatch(/^AADSTS900144:/)
  })

  it('serves discovery and keys at the tenant v2.0 paths', async () => {
    await expectDiscoveryAndKeys(
      as,
      `https://login.microsoftonline.com/${TENANT}/v2.0/.well-known/openid-configuration`,
      `https://login.microsoftonline.com/${TENANT}/discovery/v2.0/keys`,
    )
  })

  it('mints Entra-shaped tokens with mintToken too', async () => {
    const principal = await verified(as, await as.mintToken({ scope: 'read' }))
    expect(principal).toMatchObject({ clientId: as.createClient().clientId, scopes: ['read'] })
  })
})

describe('entra profile in process (no port)', () => {
  it('answers the provider URLs through as.dispatcher without a socket', async () => {
    const as = await createTestAuthorizationServer({ profile: 'entra' })
    try {
      const token = await clientToken(as, { scope: `${as.audience}/.default` })
      expect(await verified(as, token)).toMatchObject({ clientId: as.createClient().clientId })
    } finally {
      await as.close()
    }
  })
})

describe('a profile behind msw', () => {
  it("answers the provider's hosts (Cognito's two) through authorizationServerHandlers too", async () => {
    const as = await createTestAuthorizationServer({ profile: 'cognito' })
    const dispatcher = createMswDispatcher(authorizationServerHandlers(as))
    try {
      const token = await clientToken(as, { dispatcher, scope: 'https://api.example.test/write' })
      const verifier = createVerifier({ ...as.verifierOptions(), dispatcher })
      expect(await verifier.verify(token)).toMatchObject({
        clientId: as.createClient().clientId,
        scopes: ['https://api.example.test/write'],
      })
      await verifier.close()
      // Through the same router as a real port: logged, with the provider's token endpoint.
      expect(as.takeRequests({ endpoint: 'token' })).toHaveLength(1)
    } finally {
      await dispatcher.close()
      await as.close()
    }
  })
})

describe('auth0 profile', () => {
  let as: StartedAuthorizationServer
  beforeAll(async () => {
    as = await startAuthorizationServer({
      profile: { name: 'auth0', domain: 'acme.us.auth0.com', audience: 'https://api.acme.example' },
    })
  })
  afterAll(() => as.close())

  it('gives our client a token for its audience that the real auth0() preset accepts', async () => {
    expect(as.issuer).toBe('https://acme.us.auth0.com/')
    expect(as.tokenEndpoint).toBe('https://acme.us.auth0.com/oauth/token')
    const token = await clientToken(as, { audience: 'https://api.acme.example', scope: 'read' })
    expect(await verified(as, token)).toMatchObject({
      clientId: as.createClient().clientId,
      scopes: ['read'],
    })
  })

  it('shapes the token as Auth0 documents: typ JWT; sub {client}@clients, azp, gty, scope', async () => {
    const token = await clientToken(as, { audience: 'https://api.acme.example' })
    expect(decodeProtectedHeader(token)).toMatchObject({ typ: 'JWT', alg: 'RS256' })
    const { clientId } = as.createClient()
    const claims = decodeJwt(token)
    expect(claims).toMatchObject({
      iss: 'https://acme.us.auth0.com/',
      aud: 'https://api.acme.example',
      sub: `${clientId}@clients`,
      azp: clientId,
      gty: 'client-credentials',
      scope: 'read write',
    })
    expect(claims).not.toHaveProperty('client_id')
  })

  it('takes a JSON body, and answers with scope and expires_in 86400', async () => {
    as.createClient('json-client', { token_endpoint_auth_method: 'client_secret_post' })
    const answer = await rawTokenRequest(
      as,
      { grant_type: 'client_credentials', audience: 'https://api.acme.example' },
      { json: true, clientId: 'json-client' },
    )
    expect(answer).toMatchObject({
      status: 200,
      body: {
        token_type: 'Bearer',
        expires_in: 86400,
        scope: 'read write',
        access_token: expect.any(String),
      },
    })
  })

  it('refuses a request without audience with 403 access_denied', async () => {
    const refusal = await clientRefusal(as)
    expect(refusal).toMatchObject({
      error: 'access_denied',
      status: 403,
      errorDescription: 'No audience parameter was provided, and no default audience has been configured',
    })
  })

  it('serves discovery and keys at the tenant domain', async () => {
    await expectDiscoveryAndKeys(
      as,
      'https://acme.us.auth0.com/.well-known/openid-configuration',
      'https://acme.us.auth0.com/.well-known/jwks.json',
    )
  })
})

describe('auth0 profile, RFC 9068 dialect', () => {
  it('issues typ at+jwt tokens with client_id and jti that the auth0() preset accepts', async () => {
    const as = await startAuthorizationServer({
      profile: { name: 'auth0', tokenDialect: 'rfc9068_profile_authz' },
    })
    try {
      const token = await clientToken(as, { audience: as.audience, scope: 'write' })
      expect(decodeProtectedHeader(token).typ).toBe('at+jwt')
      const claims = decodeJwt(token)
      expect(claims).toMatchObject({ client_id: as.createClient().clientId, permissions: ['write'] })
      expect(claims).not.toHaveProperty('gty')
      expect(await verified(as, token)).toMatchObject({
        clientId: as.createClient().clientId,
        scopes: ['write'],
      })
    } finally {
      await as.close()
    }
  })
})

describe('okta profile', () => {
  let as: StartedAuthorizationServer
  beforeAll(async () => {
    as = await startAuthorizationServer({ profile: { name: 'okta', domain: 'dev-123456.okta.com' } })
  })
  afterAll(() => as.close())

  it('gives our client a token for a custom scope that the real okta() preset accepts', async () => {
    expect(as.issuer).toBe('https://dev-123456.okta.com/oauth2/default')
    expect(as.tokenEndpoint).toBe('https://dev-123456.okta.com/oauth2/default/v1/token')
    const token = await clientToken(as, { scope: 'read' })
    expect(await verified(as, token)).toMatchObject({
      clientId: as.createClient().clientId,
      scopes: ['read'],
    })
  })

  it('shapes the token as Okta documents: no typ; ver 1, jti AT.…, cid, scp array, aud api://default', async () => {
    const token = await clientToken(as, { scope: 'read write' })
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'RS256', kid: expect.any(String) })
    const { clientId } = as.createClient()
    const claims = decodeJwt(token)
    expect(claims).toMatchObject({
      ver: 1,
      cid: clientId,
      scp: ['read', 'write'],
      sub: clientId,
      aud: 'api://default',
    })
    expect(claims.jti).toMatch(/^AT\./)
    for (const absent of ['uid', 'client_id', 'scope']) expect(claims).not.toHaveProperty(absent)
  })

  it('refuses a request without scope with invalid_scope', async () => {
    const refusal = await clientRefusal(as)
    expect(refusal).toMatchObject({ error: 'invalid_scope', status: 400 })
    expect(refusal.errorDescription).toContain("'scope' must be provided")
  })

  it('serves both discovery documents and the keys under the authorization server', async () => {
    for (const wellKnown of ['oauth-authorization-server', 'openid-configuration']) {
      await expectDiscoveryAndKeys(
        as,
        `https://dev-123456.okta.com/oauth2/default/.well-known/${wellKnown}`,
        'https://dev-123456.okta.com/oauth2/default/v1/keys',
      )
    }
  })
})

describe('keycloak profile', () => {
  let as: StartedAuthorizationServer
  beforeAll(async () => {
    as = await startAuthorizationServer({
      profile: {
        name: 'keycloak',
        baseUrl: 'https://sso.example.com',
        realm: 'acme',
        audience: 'orders-api',
      },
    })
  })
  afterAll(() => as.close())

  it('gives our client a service-account token that the real keycloak() preset accepts', async () => {
    expect(as.issuer).toBe('https://sso.example.com/realms/acme')
    expect(as.tokenEndpoint).toBe('https://sso.example.com/realms/acme/protocol/openid-connect/token')
    const token = await clientToken(as)
    expect(await verified(as, token)).toMatchObject({
      clientId: as.createClient().clientId,
      scopes: ['read', 'write'],
    })
  })

  it('shapes the token as Keycloak servers issue it: typ JWT; typ claim Bearer, azp, UUID sub, service-account user', async () => {
    const token = await clientToken(as)
    expect(decodeProtectedHeader(token)).toMatchObject({ typ: 'JWT', alg: 'RS256' })
    const { clientId } = as.createClient()
    const claims = decodeJwt(token)
    expect(claims).toMatchObject({
      typ: 'Bearer',
      azp: clientId,
      preferred_username: `service-account-${clientId}`,
      aud: ['orders-api', 'account'],
      scope: 'read write',
    })
    expect(claims.sub).toMatch(GUID)
    expect((claims.realm_access as { roles: string[] }).roles).toContain('default-roles-acme')
  })

  it('answers with refresh_expires_in 0 and not-before-policy 0', async () => {
    const answer = await rawTokenRequest(as, { grant_type: 'client_credentials' })
    expect(answer.body).toMatchObject({ refresh_expires_in: 0, 'not-before-policy': 0, expires_in: 300 })
  })

  it('serves discovery and certs at the realm paths', async () => {
    await expectDiscoveryAndKeys(
      as,
      'https://sso.example.com/realms/acme/.well-known/openid-configuration',
      'https://sso.example.com/realms/acme/protocol/openid-connect/certs',
    )
  })
})

describe('cognito profile', () => {
  let as: StartedAuthorizationServer
  beforeAll(async () => {
    as = await startAuthorizationServer({
      profile: {
        name: 'cognito',
        region: 'us-west-2',
        userPoolId: 'us-west-2_example',
        domainPrefix: 'acme',
      },
    })
  })
  afterAll(() => as.close())

  it('gives our client a token from the pool domain that the real cognito() preset accepts', async () => {
    expect(as.issuer).toBe('https://cognito-idp.us-west-2.amazonaws.com/us-west-2_example')
    expect(as.tokenEndpoint).toBe('https://acme.auth.us-west-2.amazoncognito.com/oauth2/token')
    const token = await clientToken(as, { scope: 'https://api.example.test/read' })
    expect(await verified(as, token)).toMatchObject({
      clientId: as.createClient().clientId,
      scopes: ['https://api.example.test/read'],
    })
  })

  it('shapes the token as Cognito documents: no typ; token_use access, client_id, scope, no aud', async () => {
    const token = await clientToken(as)
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'RS256', kid: expect.any(String) })
    const { clientId } = as.createClient()
    const claims = decodeJwt(token)
    expect(claims).toMatchObject({
      iss: 'https://cognito-idp.us-west-2.amazonaws.com/us-west-2_example',
      token_use: 'access',
      client_id: clientId,
      scope: 'https://api.example.test/read https://api.example.test/write',
    })
    expect(claims).not.toHaveProperty('aud')
  })

  it('ignores a requested scope the client does not have, and answers without scope', async () => {
    const answer = await rawTokenRequest(as, {
      grant_type: 'client_credentials',
      scope: 'https://api.example.test/read https://api.example.test/admin',
    })
    expect(answer.body).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 3600 })
    expect(decodeJwt(answer.body.access_token as string).scope).toBe('https://api.example.test/read')
  })

  it('answers a bad secret with 400 and error alone', async () => {
    const answer = await request(as.tokenEndpoint, {
      method: 'POST',
      dispatcher: as.dispatcher,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: as.createClient().clientId,
        client_secret: 'wrong',
      }).toString(),
    })
    expect(answer.statusCode).toBe(400)
    expect(await answer.body.json()).toEqual({ error: 'invalid_client' })
  })

  it('serves discovery and keys on cognito-idp', async () => {
    await expectDiscoveryAndKeys(
      as,
      'https://cognito-idp.us-west-2.amazonaws.com/us-west-2_example/.well-known/openid-configuration',
      'https://cognito-idp.us-west-2.amazonaws.com/us-west-2_example/.well-known/jwks.json',
    )
  })
})

describe("the listener's origin instead of the provider's hosts", () => {
  it("serves the provider's paths on the loopback listener, with verifier options to match", async () => {
    const as = await startAuthorizationServer({ profile: 'okta', issuerOrigin: 'server' })
    try {
      expect(as.issuer).toBe(`${as.url}/oauth2/default`)
      expect(as.tokenEndpoint).toBe(`${as.url}/oauth2/default/v1/token`)
      // No dispatcher needed: the URLs are the listener's.
      const client = createTokenClient({ ...as.createClient(), scope: 'read' })
      const token = (await client.getToken()).accessToken
      await client.close()
      const { dispatcher: _dispatcher, ...options } = as.verifierOptions()
      expect(options).toMatchObject({ issuer: as.issuer, jwksUri: `${as.url}/oauth2/default/v1/keys` })
      const verifier = createVerifier(options)
      expect(await verifier.verify(token)).toMatchObject({
        clientId: as.createClient().clientId,
        scopes: ['read'],
      })
      await verifier.close()
    } finally {
      await as.close()
    }
  })
})
