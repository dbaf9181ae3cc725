/**
 * Every client authentication method × token format × middleware adapter, over real loopback
 * HTTP: the client gets a token from the reference server, calls an API protected by that
 * adapter, and the API sees the caller's client id and scopes.
 */
import { type ClientAuthStrategy, createTokenClient, type TokenClient } from '@oauth-m2m/client'
import { clientSecretBasic, clientSecretJwt, clientSecretPost, privateKeyJwt } from '@oauth-m2m/core'
import {
  type StartedAuthorizationServer,
  startAuthorizationServer,
  type TestClientCredentials,
} from '@oauth-m2m/testing'
import { createVerifier, type Verifier } from '@oauth-m2m/verifier'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type AppUnderTest, MIDDLEWARE_APPS, type PrincipalSummary } from './support/protected-apps.js'

const JWT_API = 'https://orders.example.test'
const OPAQUE_API = 'https://billing.example.test'

const STRATEGIES = {
  client_secret_basic: (c: TestClientCredentials) => clientSecretBasic(c.clientSecret ?? ''),
  client_secret_post: (c: TestClientCredentials) => clientSecretPost(c.clientSecret ?? ''),
  client_secret_jwt: (c: TestClientCredentials) => clientSecretJwt(c.clientSecret ?? ''),
  private_key_jwt: (c: TestClientCredentials) =>
    privateKeyJwt(c.privateKey as Parameters<typeof privateKeyJwt>[0]),
} satisfies Record<string, (c: TestClientCredentials) => ClientAuthStrategy>
type Method = keyof typeof STRATEGIES
const METHODS = Object.keys(STRATEGIES) as Method[]

const FORMATS = { jwt: JWT_API, opaque: OPAQUE_API } as const
type Format = keyof typeof FORMATS
type Middleware = keyof typeof MIDDLEWARE_APPS
const MIDDLEWARES = Object.keys(MIDDLEWARE_APPS) as Middleware[]

let as: StartedAuthorizationServer
const verifiers: Verifier[] = []
const apps = new Map<string, AppUnderTest>()
const clients = new Map<string, TokenClient>()

const appFor = (middleware: Middleware, format: Format) => apps.get(`${middleware}/${format}`) as AppUnderTest
const clientFor = (method: Method, format: Format) => clients.get(`${method}/${format}`) as TokenClient

beforeAll(async () => {
  as = await startAuthorizationServer({
    defaultClient: false,
    clients: [
      ...METHODS.map((method) => ({
        client_id: `svc-${method}`,
        token_endpoint_auth_method: method,
        scope: 'read',
      })),
      { client_id: 'billing-rs' },
    ],
    resources: [{ resource: JWT_API }, { resource: OPAQUE_API, tokenFormat: 'opaque' }],
  })
  const rs = as.createClient('billing-rs')
  const verifierFor: Record<Format, Verifier> = {
    jwt: createVerifier({ issuer: as.issuer, audience: JWT_API }),
    opaque: createVerifier({
      issuer: as.issuer,
      audience: OPAQUE_API,
      introspection: { clientId: rs.clientId, auth: clientSecretBasic(rs.clientSecret ?? '') },
    }),
  }
  verifiers.push(verifierFor.jwt, verifierFor.opaque)
  for (const middleware of MIDDLEWARES) {
    for (const format of Object.keys(FORMATS) as Format[]) {
      apps.set(
        `${middleware}/${format}`,
        await MIDDLEWARE_APPS[middleware]({ verifier: verifierFor[format] }),
      )
    }
  }
  const origins = [...apps.values()].map((app) => app.url)
  for (const method of METHODS) {
    const credentials = as.createClient(`svc-${method}`)
    for (const [format, resource] of Object.entries(FORMATS) as [Format, string][]) {
      clients.set(
        `${method}/${format}`,
        createTokenClient({
          issuer: as.issuer,
          clientId: credentials.clientId,
          auth: STRATEGIES[method](credentials),
          scope: 'read',
          resource,
          origins,
        }),
      )
    }
  }
})

afterAll(async () => {
  await Promise.all([...clients.values()].map((c) => c.close()))
  await Promise.all([...apps.values()].map((app) => app.close()))
  await Promise.all(verifiers.map((v) => v.close()))
  await as?.close()
})

describe.each(MIDDLEWARES)('an API protected by the %s middleware', (middleware) => {
  describe.each(Object.keys(FORMATS) as Format[])('with %s access tokens', (format) => {
    it.each(METHODS)('serves a client that authenticates with %s', async (method) => {
      const client = clientFor(method, format)
      const response = await client.fetch(`${appFor(middleware, format).url}/things`)
      expect(response.status).toBe(200)
      expect((await response.json()) as PrincipalSummary).toEqual({
        clientId: `svc-${method}`,
        scopes: ['read'],
      })
      const { accessToken } = await client.getToken()
      expect(accessToken.split('.').length).toBe(format === 'jwt' ? 3 : 1)
    })
  })

  it('answers 403 insufficient_scope to a valid token that lacks a required scope', async () => {
    const response = await clientFor('client_secret_basic', 'jwt').fetch(
      `${appFor(middleware, 'jwt').url}/admin`,
    )
    expect(response.status).toBe(403)
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer .*error="insufficient_scope"/)
    expect(await response.json()).toMatchObject({ error: 'insufficient_scope' })
  })
})
