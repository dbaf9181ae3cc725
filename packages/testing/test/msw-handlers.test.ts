import { ConfigurationError, clientSecretBasic, discover, JwksCache } from '@oauth-m2m/core'
import { requestJson } from '@oauth-m2m/core/internal'
import { createAuthorizationServer } from '@oauth-m2m/server'
import {
  createTestAuthorizationServer,
  DEFAULT_TEST_ISSUER,
  type TestAuthorizationServer,
  type TestClientCredentials,
} from '@oauth-m2m/testing'
import { authorizationServerHandlers, createMswDispatcher } from '@oauth-m2m/testing/msw'
import { HttpResponse, http } from 'msw'
import { setupServer } from 'msw/node'
import type { Dispatcher } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

async function tokenRequest(client: TestClientCredentials, dispatcher?: Dispatcher) {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' }
  const body = new URLSearchParams({ grant_type: 'client_credentials' })
  await client.auth.apply({ headers, body }, { clientId: client.clientId, endpoint: client.tokenEndpoint })
  return requestJson(client.tokenEndpoint, {
    method: 'POST',
    headers,
    body: body.toString(),
    ...(dispatcher ? { dispatcher } : {}),
  })
}

describe('authorizationServerHandlers with the undici bridge (createMswDispatcher)', () => {
  let as: TestAuthorizationServer
  let dispatcher: Dispatcher

  beforeAll(async () => {
    as = await createTestAuthorizationServer()
    dispatcher = createMswDispatcher(authorizationServerHandlers(as))
  })
  afterAll(async () => {
    await dispatcher.close()
    await as.close()
  })

  it('serves discovery, a token and the JWKS in process, with no port', async () => {
    expect(as.issuer).toBe(DEFAULT_TEST_ISSUER)
    const metadata = await discover(as.issuer, { dispatcher })
    expect(metadata.token_endpoint).toBe(`${DEFAULT_TEST_ISSUER}/token`)

    const answer = await tokenRequest(as.createClient(), dispatcher)
    expect(answer.status).toBe(200)
    const token = (answer.body as { access_token: string }).access_token
    const header = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString())
    const key = await new JwksCache(metadata.jwks_uri ?? '', { dispatcher }).getKey(header)
    expect(key.kid).toBe(header.kid)
  })

  it('serves a client that createClient registers after the server was created', async () => {
    const late = as.createClient('registered-in-the-test', {
      token_endpoint_auth_method: 'client_secret_post',
    })

    const answer = await tokenRequest(late, dispatcher)

    expect(answer.status).toBe(200)
    expect(answer.body).toMatchObject({ scope: 'read write' })
  })

  it('answers refusals exactly as the server does', async () => {
    const wrongSecret = { ...as.createClient(), auth: clientSecretBasic('not-the-secret') }
    const answer = await tokenRequest(wrongSecret, dispatcher)
    expect(answer.status).toBe(401)
    expect(answer.body).toMatchObject({ error: 'invalid_client' })
  })
})

describe('authorizationServerHandlers with msw setupServer (global fetch)', () => {
  const issuer = 'https://auth.example.test/tenant-a'
  let as: TestAuthorizationServer
  const mswServer = setupServer()

  beforeAll(async () => {
    as = await createTestAuthorizationServer({ issuer })
    mswServer.use(
      ...authorizationServerHandlers(as),
      http.get('https://auth.example.test/status', () => HttpResponse.json({ ok: true })),
    )
    mswServer.listen({ onUnhandledRequest: 'error' })
  })
  afterAll(async () => {
    mswServer.close()
    await as.close()
  })

  it('serves the path-issuer metadata at the origin well-known location and tokens under the issuer path', async () => {
    const metadata = await fetch('https://auth.example.test/.well-known/oauth-authorization-server/tenant-a')
    expect(metadata.status).toBe(200)
    expect(await metadata.json()).toMatchObject({ issuer, token_endpoint: `${issuer}/token` })

    const client = as.createClient()
    const response = await fetch(`${issuer}/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=client_credentials',
    })
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({ token_type: 'Bearer', scope: 'read write' })
  })

  it('lets other paths of the origin reach the next handler', async () => {
    const response = await fetch('https://auth.example.test/status')
    expect(await response.json()).toEqual({ ok: true })
  })
})

describe('authorizationServerHandlers with a plain server', () => {
  it('accepts a server created with an issuer', async () => {
    const server = await createAuthorizationServer({ issuer: 'https://plain.example.test', clients: [] })
    const dispatcher = createMswDispatcher(authorizationServerHandlers(server))
    try {
      const answer = await requestJson('https://plain.example.test/jwks', { dispatcher })
      // the current signing key and the pre-published next one
      expect(answer.body).toMatchObject({
        keys: [expect.objectContaining({ kty: 'EC' }), expect.objectContaining({ kty: 'EC' })],
      })
    } finally {
      await dispatcher.close()
    }
  })

  it('refuses a server whose issuer is not known yet', async () => {
    const server = await createAuthorizationServer({ clients: [] })
    expect(() => authorizationServerHandlers(server)).toThrow(ConfigurationError)
  })
})
