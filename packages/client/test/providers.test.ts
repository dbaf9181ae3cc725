/**
 * The README's provider configurations (./providers/*.ts, shown there verbatim) run as written
 * against local stand-ins for Entra ID, Auth0, Okta, Keycloak and Cognito: msw handlers, reached
 * through undici's global dispatcher (the snippets name none), that refuse a request unless it
 * has the shape the provider documents, and answer with that provider's documented response
 * quirks and a JWT access token shaped like its own, as their documentation describes them.
 */
import { createHash, createPublicKey, X509Certificate } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { OAuthResponseError } from '@oauth-m2m/core'
import { decodeBasicCredentials } from '@oauth-m2m/core/internal'
import { createMswDispatcher } from '@oauth-m2m/testing/msw'
import { decodeJwt, decodeProtectedHeader, generateKeyPair, type JWTPayload, jwtVerify, SignJWT } from 'jose'
import { HttpResponse, http, type JsonBodyType } from 'msw'
import { type Dispatcher, getGlobalDispatcher, setGlobalDispatcher } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { selfSignedCertificate } from '../../core/test/support/certificates.js'
import type { TokenClient } from '../src/index.js'

const README = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
const SNIPPETS = new URL('./providers/', import.meta.url)

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47'
const ENTRA_CLIENT = '535fb089-9ff3-47b6-9bfb-4f1264799865'
const ENTRA_V2 = `https://login.microsoftonline.com/${TENANT}/oauth2/v2.0/token`
const ENTRA_V1 = `https://login.microsoftonline.com/${TENANT}/oauth2/token`
const AUTH0_CLIENT = 'OOZH6s5sgOORoVKBMNRu0xRd4I3dl5T7'
const AUTH0 = 'https://acme.us.auth0.com'
const AUTH0_API = 'https://api.acme.example'
const OKTA = 'https://dev-123456.okta.com/oauth2/default'
const OKTA_CLIENT = '0oa8acv8gbBPRCZ7I5d7'
const KEYCLOAK = 'https://sso.example.com/realms/acme'
const COGNITO = 'https://acme.auth.us-west-2.amazoncognito.com/oauth2/token'
const COGNITO_POOL = 'https://cognito-idp.us-west-2.amazonaws.com/us-west-2_example'
const COGNITO_CLIENT = '57cbishk4j24pabc1234567890'
const SECRETS = {
  entra: 'entra~secret.value',
  auth0: 'auth0-secret',
  okta: 'okta-secret',
  keycloak: 'keycloak-secret',
  cognito: 'cognito-secret',
}

Object.assign(process.env, {
  AZURE_TENANT_ID: TENANT,
  AZURE_CLIENT_ID: ENTRA_CLIENT,
  AZURE_CLIENT_SECRET: SECRETS.entra,
  AUTH0_CLIENT_ID: AUTH0_CLIENT,
  AUTH0_CLIENT_SECRET: SECRETS.auth0,
  OKTA_CLIENT_ID: OKTA_CLIENT,
  OKTA_CLIENT_SECRET: SECRETS.okta,
  KEYCLOAK_CLIENT_SECRET: SECRETS.keycloak,
  COGNITO_CLIENT_ID: COGNITO_CLIENT,
  COGNITO_CLIENT_SECRET: SECRETS.cognito,
})

/** The providers sign with RS256 (every one of them by default). */
const signingKey = (await generateKeyPair('RS256')).privateKey
const certificate = await selfSignedCertificate('RS256', 'CN=orders-job')
let dir: string

/** One request a stand-in received. */
interface Received {
  url: string
  form: URLSearchParams
  headers: Headers
}
const received: Received[] = []
const apiCalls: string[] = []

function requestsTo(url: string): Received[] {
  return received.filter((r) => r.url === url)
}

async function record(request: Request): Promise<Received> {
  const entry = {
    url: request.url,
    form: new URLSearchParams(await request.text()),
    headers: request.headers,
  }
  received.push(entry)
  return entry
}

function oauthError(
  status: number,
  error: string,
  description: string,
  extra: Record<string, JsonBodyType> = {},
) {
  return HttpResponse.json({ error, error_description: description, ...extra }, { status })
}

/** The client secret, from the body or from Basic credentials; `undefined` when neither or both. */
function secretOf({ form, headers }: Received, clientId: string): string | undefined {
  const authorization = headers.get('authorization')
  const basic = authorization === null ? undefined : decodeBasicCredentials(authorization)
  const inBody = form.get('client_secret')
  if (basic?.ok && inBody === null) return basic.clientId === clientId ? basic.clientSecret : undefined
  if (basic === undefined && inBody !== null) return form.get('client_id') === clientId ? inBody : undefined
  return undefined
}

function basicSecretOf({ headers }: Received, clientId: string): string | undefined {
  const basic = decodeBasicCredentials(headers.get('authorization') ?? '')
  return basic.ok && basic.clientId === clientId ? basic.clientSecret : undefined
}

async function jwt(header: Record<string, string>, claims: JWTPayload, lifetimeSec: number): Promise<string> {
  const iat = Math.floor(Date.now() / 1000)
  return new SignJWT({ iat, exp: iat + lifetimeSec, ...claims })
    .setProtectedHeader({ alg: 'RS256', ...header })
    .sign(signingKey)
}

/** Entra ID: a client secret (body or Basic) or a certificate assertion naming the certificate by `x5t#S256`. */
async function entraClientAuthFails(entry: Received, endpoint: string): Promise<Response | undefined> {
  const assertion = entry.form.get('client_assertion')
  if (assertion === null) {
    return secretOf(entry, ENTRA_CLIENT) === SECRETS.entra
      ? undefined
      : oauthError(401, 'invalid_client', 'AADSTS7000215: Invalid client secret provided.')
  }
  const certificatePem = readFileSync(process.env.ENTRA_CERTIFICATE_FILE!, 'utf8')
  const der = new X509Certificate(certificatePem).raw
  try {
    if (
      entry.form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'
    ) {
      throw new Error('client_assertion_type')
    }
    if (
      decodeProtectedHeader(assertion)['x5t#S256'] !== createHash('sha256').update(der).digest('base64url')
    ) {
      throw new Error('x5t#S256')
    }
    const { payload } = await jwtVerify(assertion, createPublicKey(certificatePem), {
      audience: endpoint,
      issuer: ENTRA_CLIENT,
      subject: ENTRA_CLIENT,
      requiredClaims: ['jti', 'exp'],
    })
    return payload.jti === undefined ? oauthError(401, 'invalid_client', 'AADSTS700024') : undefined
  } catch {
    return oauthError(
      401,
      'invalid_client',
      'AADSTS700027: The certificate with identifier used to sign the client assertion is not registered on application.',
    )
  }
}

const handlers = [
  // Entra ID v2: scope must be one resource's `/.default`; app permissions arrive as `roles`.
  http.post(ENTRA_V2, async ({ request }) => {
    const entry = await record(request)
    if (entry.form.get('grant_type') !== 'client_credentials')
      return oauthError(400, 'unsupported_grant_type', 'AADSTS70003')
    const refused = await entraClientAuthFails(entry, ENTRA_V2)
    if (refused) return refused
    const scope = entry.form.get('scope') ?? ''
    if (!/^\S+\/\.default$/.test(scope)) {
      return oauthError(
        400,
        'invalid_scope',
        'AADSTS70011: The provided value for the input parameter scope is not valid.',
        { error_codes: [70011] },
      )
    }
    const accessToken = await jwt(
      { typ: 'JWT', kid: 'iBjL1Rcqzhiy4fpxIxdZqohM2Yk' },
      {
        aud: '6e74172b-be56-4843-9ff4-e66a39bb12e3',
        iss: `https://login.microsoftonline.com/${TENANT}/v2.0`,
        azp: ENTRA_CLIENT,
        azpacr: entry.form.has('client_assertion') ? '2' : '1',
        idtyp: 'app',
        oid: '690222be-ff1a-4d56-abd1-7e4f7d38e474',
        sub: '690222be-ff1a-4d56-abd1-7e4f7d38e474',
        roles: ['Orders.Read.All'],
        tid: TENANT,
        uti: 'fqiBqXLPj0eQa82S-IYFAA',
        ver: '2.0',
      },
      3599,
    )
    return HttpResponse.json({
      token_type: 'Bearer',
      expires_in: 3599,
      ext_expires_in: 3599,
      access_token: accessToken,
    })
  }),
  // Entra ID v1: resource= (the App ID URI) instead of scope; every number of the answer a string.
  http.post(ENTRA_V1, async ({ request }) => {
    const entry = await record(request)
    const refused = await entraClientAuthFails(entry, ENTRA_V1)
    if (refused) return refused
    const resource = entry.form.get('resource')
    if (resource === null || entry.form.getAll('resource').length !== 1) {
      return oauthError(
        400,
        'invalid_request',
        "AADSTS50001: The request body must contain the following parameter: 'resource'.",
      )
    }
    const iat = Math.floor(Date.now() / 1000)
    const accessToken = await jwt(
      { typ: 'JWT', x5t: 'i6lGk3FZzxRcUb2C3nEQ7syHJlY', kid: 'i6lGk3FZzxRcUb2C3nEQ7syHJlY' },
      {
        aud: resource,
        iss: `https://sts.windows.net/${TENANT}/`,
        appid: ENTRA_CLIENT,
        appidacr: '1',
        idtyp: 'app',
        roles: ['Orders.Read.All'],
        tid: TENANT,
        ver: '1.0',
      },
      3599,
    )
    return HttpResponse.json({
      token_type: 'Bearer',
      expires_in: '3599',
      ext_expires_in: '3599',
      expires_on: String(iat + 3599),
      not_before: String(iat),
      resource,
      access_token: accessToken,
    })
  }),
  // Auth0: audience (the API Identifier) is required; 24 h tokens by default.
  http.post(`${AUTH0}/oauth/token`, async ({ request }) => {
    const entry = await record(request)
    if (entry.form.get('grant_type') !== 'client_credentials')
      return oauthError(400, 'unsupported_grant_type', 'grant type')
    if (secretOf(entry, AUTH0_CLIENT) !== SECRETS.auth0)
      return oauthError(401, 'access_denied', 'Unauthorized')
    const audiences = entry.form.getAll('audience')
    if (audiences.length !== 1) return oauthError(400, 'invalid_request', 'an audience parameter is required')
    const accessToken = await jwt(
      { typ: 'JWT', kid: 'FChMh5aiSbbpUSQfa03b1' },
      {
        iss: `${AUTH0}/`,
        sub: `${AUTH0_CLIENT}@clients`,
        aud: audiences[0]!,
        scope: 'read:orders write:orders',
        gty: 'client-credentials',
        azp: AUTH0_CLIENT,
      },
      86400,
    )
    return HttpResponse.json({ access_token: accessToken, token_type: 'Bearer', expires_in: 86400 })
  }),
  http.all(`${AUTH0_API}/*`, ({ request }) => {
    apiCalls.push(request.headers.get('authorization') ?? '')
    return HttpResponse.json({ orders: [] })
  }),
  // Okta custom authorization server: metadata under the issuer, client_secret_basic by default,
  // at least one custom scope, no OpenID scope.
  ...[`${OKTA}/.well-known/openid-configuration`, `${OKTA}/.well-known/oauth-authorization-server`].map(
    (url) =>
      http.get(url, () =>
        HttpResponse.json({
          issuer: OKTA,
          token_endpoint: `${OKTA}/v1/token`,
          jwks_uri: `${OKTA}/v1/keys`,
          token_endpoint_auth_methods_supported: [
            'client_secret_basic',
            'client_secret_post',
            'client_secret_jwt',
            'private_key_jwt',
            'none',
          ],
        }),
      ),
  ),
  http.post(`${OKTA}/v1/token`, async ({ request }) => {
    const entry = await record(request)
    if (basicSecretOf(entry, OKTA_CLIENT) !== SECRETS.okta)
      return oauthError(401, 'invalid_client', 'Client authentication failed.')
    const scopes = (entry.form.get('scope') ?? '').split(' ').filter(Boolean)
    if (
      scopes.length === 0 ||
      scopes.some((s) => ['openid', 'profile', 'email', 'offline_access'].includes(s))
    ) {
      return oauthError(400, 'invalid_scope', 'The requested scope is invalid, unknown, or malformed.')
    }
    const accessToken = await jwt(
      { kid: '45js03w0djwedsw' },
      {
        ver: 1,
        jti: 'AT.0mP4JKAZX1iACIT4vbEDF7LpvDVjxypPMf0D7uX39RE',
        iss: OKTA,
        aud: 'api://default',
        cid: OKTA_CLIENT,
        scp: scopes,
        sub: OKTA_CLIENT,
      },
      3600,
    )
    return HttpResponse.json({
      access_token: accessToken,
      token_type: 'Bearer',
      expires_in: 3600,
      scope: scopes.join(' '),
    })
  }),
  // Keycloak: OIDC discovery under the realm; the service account's token lives 300 s, with
  // refresh_expires_in 0 and the hyphenated not-before-policy.
  http.get(`${KEYCLOAK}/.well-known/openid-configuration`, () =>
    HttpResponse.json({
      issuer: KEYCLOAK,
      token_endpoint: `${KEYCLOAK}/protocol/openid-connect/token`,
      jwks_uri: `${KEYCLOAK}/protocol/openid-connect/certs`,
    }),
  ),
  http.post(`${KEYCLOAK}/protocol/openid-connect/token`, async ({ request }) => {
    const entry = await record(request)
    if (secretOf(entry, 'orders-job') !== SECRETS.keycloak) {
      return oauthError(401, 'unauthorized_client', 'Invalid client or Invalid client credentials')
    }
    const accessToken = await jwt(
      { typ: 'JWT', kid: 'K0lQRi8_05eN9_5SNHnCTs7_b1oST0_WFlTp8dj01Fg' },
      {
        jti: 'f0a77b46-3f2c-45ae-a1d2-cfe3be01a7f8',
        iss: KEYCLOAK,
        aud: 'account',
        sub: 'bc2a72f4-d923-459a-be07-e37419516704',
        typ: 'Bearer',
        azp: 'orders-job',
        scope: 'profile email',
        preferred_username: 'service-account-orders-job',
        client_id: 'orders-job',
      },
      300,
    )
    return HttpResponse.json({
      access_token: accessToken,
      expires_in: 300,
      refresh_expires_in: 0,
      token_type: 'Bearer',
      'not-before-policy': 0,
      scope: 'profile email',
    })
  }),
  // Cognito: client_secret_basic, form-encoded, scopes `{resource server}/{scope}`; the answer
  // names no scope.
  http.post(COGNITO, async ({ request }) => {
    const entry = await record(request)
    if (entry.headers.get('content-type') !== 'application/x-www-form-urlencoded')
      return oauthError(400, 'invalid_request', 'content type')
    if (basicSecretOf(entry, COGNITO_CLIENT) !== SECRETS.cognito)
      return oauthError(400, 'invalid_client', 'Client authentication failed')
    const scopes = (entry.form.get('scope') ?? '').split(' ').filter(Boolean)
    // The identifier may itself be a URL (`https://api.example.com/orders.read`): the scope name is after the last /.
    if (!scopes.every((s) => /^.+\/[^/]+$/.test(s))) return oauthError(400, 'invalid_scope', 'invalid_scope')
    const accessToken = await jwt(
      { kid: '1234example=' },
      {
        sub: COGNITO_CLIENT,
        token_use: 'access',
        scope: scopes.join(' '),
        iss: COGNITO_POOL,
        version: 2,
        jti: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
        client_id: COGNITO_CLIENT,
      },
      3600,
    )
    return HttpResponse.json({ access_token: accessToken, token_type: 'Bearer', expires_in: 3600 })
  }),
  // Anything else, the RFC 8414 path-inserted metadata URLs included, is not found.
  http.all('*', () => new HttpResponse(null, { status: 404 })),
]

let previousDispatcher: Dispatcher
const clients: TokenClient[] = []

/** The client a README snippet creates, loaded as the README shows it. */
async function snippetClient(name: string): Promise<TokenClient> {
  const { client } = (await import(`./providers/${name}.ts`)) as { client: TokenClient }
  clients.push(client)
  return client
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'providers-'))
  process.env.ENTRA_KEY_FILE = join(dir, 'client-key.pem')
  process.env.ENTRA_CERTIFICATE_FILE = join(dir, 'client-cert.pem')
  await writeFile(process.env.ENTRA_KEY_FILE, certificate.privateKey.export({ type: 'pkcs8', format: 'pem' }))
  await writeFile(process.env.ENTRA_CERTIFICATE_FILE, certificate.pem)
  previousDispatcher = getGlobalDispatcher()
  setGlobalDispatcher(createMswDispatcher(handlers))
})

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()))
  setGlobalDispatcher(previousDispatcher)
  await rm(dir, { recursive: true, force: true })
})

describe('the README', () => {
  it.each(readdirSync(SNIPPETS).filter((f) => f.endsWith('.ts')))(
    'shows providers/%s exactly as it runs',
    (file) => {
      const snippet = readFileSync(new URL(file, SNIPPETS), 'utf8').trimEnd()
      expect(README).toContain(`\`\`\`ts\n${snippet}\n\`\`\``)
    },
  )
})

describe('Entra ID', () => {
  it('v2 with a secret: scope {App ID URI}/.default, client_secret in the body', async () => {
    const client = await snippetClient('entra-id')
    const token = await client.getToken()
    const [request] = requestsTo(ENTRA_V2)
    expect(request!.form.get('scope')).toBe('api://orders-api/.default')
    expect(request!.form.get('client_secret')).toBe(SECRETS.entra)
    expect(token.expiresAt - token.issuedAt).toBe(3_599_000)
    expect(token.scope).toBe('api://orders-api/.default')
    expect(decodeJwt(token.accessToken)).toMatchObject({
      azp: ENTRA_CLIENT,
      roles: ['Orders.Read.All'],
      ver: '2.0',
    })
    // The stand-in is strict: Entra refuses a scope that is not one resource's /.default.
    await expect(client.getToken({ scope: 'orders.read' })).rejects.toMatchObject({ error: 'invalid_scope' })
  })

  it('v2 with a certificate: an assertion naming it by x5t#S256, aud the token endpoint', async () => {
    const client = await snippetClient('entra-id-certificate')
    const before = requestsTo(ENTRA_V2).length
    const token = await client.getToken()
    const request = requestsTo(ENTRA_V2)[before]!
    expect(request.form.has('client_secret')).toBe(false)
    expect(request.headers.get('authorization')).toBeNull()
    const header = decodeProtectedHeader(request.form.get('client_assertion')!)
    expect(header.typ).toBe('JWT')
    expect(decodeJwt(request.form.get('client_assertion')!).aud).toBe(ENTRA_V2)
    expect(header['x5t#S256']).toBe(
      createHash('sha256').update(new X509Certificate(certificate.pem).raw).digest('base64url'),
    )
    expect(decodeJwt(token.accessToken)).toMatchObject({ azp: ENTRA_CLIENT, azpacr: '2' })
  })

  it('v1: resource= instead of scope, and expires_in "3599" as a string', async () => {
    const client = await snippetClient('entra-id-v1')
    const token = await client.getToken()
    const [request] = requestsTo(ENTRA_V1)
    expect(request!.form.getAll('resource')).toEqual(['api://orders-api'])
    expect(request!.form.has('scope')).toBe(false)
    expect(token.expiresAt - token.issuedAt).toBe(3_599_000)
    expect(token.response).toMatchObject({
      expires_in: '3599',
      ext_expires_in: '3599',
      resource: 'api://orders-api',
    })
    expect(decodeJwt(token.accessToken)).toMatchObject({
      aud: 'api://orders-api',
      appid: ENTRA_CLIENT,
      ver: '1.0',
    })
  })
})

describe('Auth0', () => {
  it('sends audience with client_secret_post, and client.fetch carries the token to the https audience', async () => {
    const client = await snippetClient('auth0')
    const token = await client.getToken()
    const [request] = requestsTo(`${AUTH0}/oauth/token`)
    expect(request!.form.getAll('audience')).toEqual([AUTH0_API])
    expect(request!.form.get('grant_type')).toBe('client_credentials')
    expect(request!.form.get('client_id')).toBe(AUTH0_CLIENT)
    expect(token.expiresAt - token.issuedAt).toBe(86_400_000)
    expect(decodeJwt(token.accessToken)).toMatchObject({
      aud: AUTH0_API,
      azp: AUTH0_CLIENT,
      gty: 'client-credentials',
    })
    const res = await client.fetch(`${AUTH0_API}/orders`)
    expect(res.status).toBe(200)
    expect(apiCalls).toEqual([`Bearer ${token.accessToken}`])
    // Without an audience the stand-in refuses, as Auth0 does when no default audience is set.
    await expect(client.getToken({ audience: [] })).rejects.toBeInstanceOf(OAuthResponseError)
  })
})

describe('Okta', () => {
  it('discovers /v1/token under the custom authorization server and sends Basic credentials and a custom scope', async () => {
    const client = await snippetClient('okta')
    const token = await client.getToken()
    const [request] = requestsTo(`${OKTA}/v1/token`)
    expect(request!.form.get('scope')).toBe('orders.read')
    expect(request!.form.has('client_secret')).toBe(false)
    expect(token.scope).toBe('orders.read')
    expect(token.expiresAt - token.issuedAt).toBe(3_600_000)
    expect(decodeProtectedHeader(token.accessToken)).not.toHaveProperty('typ')
    expect(decodeJwt(token.accessToken)).toMatchObject({ cid: OKTA_CLIENT, scp: ['orders.read'] })
    await expect(client.getToken({ scope: 'openid' })).rejects.toMatchObject({ error: 'invalid_scope' })
  })
})

describe('Keycloak', () => {
  it('discovers the realm token endpoint and reads its 300 s answer with refresh_expires_in and not-before-policy', async () => {
    const client = await snippetClient('keycloak')
    const token = await client.getToken()
    const [request] = requestsTo(`${KEYCLOAK}/protocol/openid-connect/token`)
    expect(decodeBasicCredentials(request!.headers.get('authorization')!)).toMatchObject({
      clientId: 'orders-job',
    })
    expect(token.expiresAt - token.issuedAt).toBe(300_000)
    expect(token.scope).toBe('profile email')
    expect(token.response).toMatchObject({ refresh_expires_in: 0, 'not-before-policy': 0 })
    expect(decodeJwt(token.accessToken)).toMatchObject({ azp: 'orders-job', typ: 'Bearer' })
  })
})

describe('Cognito', () => {
  it('sends Basic credentials and a resource-server scope, and takes the requested scope as granted', async () => {
    const client = await snippetClient('cognito')
    const token = await client.getToken()
    const [request] = requestsTo(COGNITO)
    expect(basicSecretOf(request!, COGNITO_CLIENT)).toBe(SECRETS.cognito)
    expect(request!.form.get('scope')).toBe('orders-api/orders.read')
    expect(token.scope).toBe('orders-api/orders.read')
    expect(token.expiresAt - token.issuedAt).toBe(3_600_000)
    expect(decodeJwt(token.accessToken)).toMatchObject({ token_use: 'access', client_id: COGNITO_CLIENT })
    expect(decodeJwt(token.accessToken)).not.toHaveProperty('aud')
  })
})
