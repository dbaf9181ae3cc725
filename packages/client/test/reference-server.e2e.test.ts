/**
 * The client against the real reference authorization server over loopback HTTP: every client
 * authentication method, discovery, scope and resource, `client.fetch` against a protected
 * node:http API, and the undici interceptor.
 */
import diagnostics_channel from 'node:diagnostics_channel'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  clientSecretBasic,
  clientSecretJwt,
  clientSecretPost,
  OAuthResponseError,
  privateKeyJwt,
} from '@oauth-m2m/core'
import { type AuthorizationServer, createAuthorizationServer } from '@oauth-m2m/server'
import { createRemoteJWKSet, decodeJwt, exportJWK, generateKeyPair, jwtVerify } from 'jose'
import { Agent, request } from 'undici'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  CLIENT_CHANNELS,
  createTokenClient,
  type FetchErrorMessage,
  type FetchStartMessage,
  type TokenClient,
} from '../src/index.js'

const WEIRD_ID = 'svc %&+:id'
const WEIRD_SECRET = 'pw %&+:word'
const HMAC_SECRET = 'a-long-shared-secret-for-hs256-0123456789'

let as: AuthorizationServer
let issuer: string
let api: Server
let apiOrigin: string
let resource: string
const apiCalls: { authorization: string | undefined }[] = []
const rejectedTokens = new Set<string>()
const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true })
const starts: FetchStartMessage[] = []
const onStart = (m: unknown) => starts.push(m as FetchStartMessage)

beforeAll(async () => {
  diagnostics_channel.subscribe(CLIENT_CHANNELS.fetchStart, onStart)
  // The protected API: checks the JWT against the server's JWKS, and refuses tokens on request.
  let jwks: ReturnType<typeof createRemoteJWKSet> | undefined
  api = createServer(async (req, res) => {
    const authorization = req.headers.authorization
    apiCalls.push({ authorization })
    for await (const _ of req) {
      // drain the body
    }
    const token = authorization?.startsWith('Bearer ') ? authorization.slice(7) : undefined
    const refuse = () => {
      res.writeHead(401, { 'www-authenticate': 'Bearer realm="api", error="invalid_token"' }).end()
    }
    if (token === undefined) {
      res.writeHead(401, { 'www-authenticate': 'Bearer realm="api"' }).end()
      return
    }
    if (rejectedTokens.has(token)) return refuse()
    try {
      jwks ??= createRemoteJWKSet(new URL(`${issuer}/jwks`))
      const { payload } = await jwtVerify(token, jwks, { issuer, audience: resource })
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ client: payload.client_id }))
    } catch {
      refuse()
    }
  })
  await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve))
  apiOrigin = `http://127.0.0.1:${(api.address() as AddressInfo).port}`
  resource = `${apiOrigin}/`

  const publicJwk = { ...(await exportJWK(publicKey)), kid: 'client-key-1', alg: 'ES256', use: 'sig' }
  const grant = { grant_types: ['client_credentials'], scope: 'read write' }
  as = await createAuthorizationServer({
    clients: [
      {
        client_id: 'svc-basic',
        client_secret: 'basic-secret',
        token_endpoint_auth_method: 'client_secret_basic',
        ...grant,
      },
      {
        client_id: 'svc-post',
        client_secret: 'post-secret',
        token_endpoint_auth_method: 'client_secret_post',
        ...grant,
      },
      {
        client_id: 'svc-hmac',
        client_secret: HMAC_SECRET,
        token_endpoint_auth_method: 'client_secret_jwt',
        ...grant,
      },
      {
        client_id: 'svc-key',
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [publicJwk] },
        ...grant,
      },
      {
        client_id: WEIRD_ID,
        client_secret: WEIRD_SECRET,
        token_endpoint_auth_method: 'client_secret_basic',
        ...grant,
      },
    ],
    resources: [{ resource }],
  })
  issuer = (await as.listen({ port: 0, host: '127.0.0.1' })).url
})

afterAll(async () => {
  diagnostics_channel.unsubscribe(CLIENT_CHANNELS.fetchStart, onStart)
  await as?.close()
  await new Promise((resolve) => api?.close(resolve))
})

const clients: TokenClient[] = []
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
  apiCalls.length = 0
  rejectedTokens.clear()
})

function track(client: TokenClient): TokenClient {
  clients.push(client)
  return client
}

const strategies = [
  ['client_secret_basic', 'svc-basic', () => clientSecretBasic('basic-secret')],
  ['client_secret_post', 'svc-post', () => clientSecretPost('post-secret')],
  ['client_secret_jwt', 'svc-hmac', () => clientSecretJwt(HMAC_SECRET)],
  ['private_key_jwt', 'svc-key', () => privateKeyJwt(privateKey, { kid: 'client-key-1' })],
] as const

describe('against the reference server', () => {
  it.each(strategies)('obtains a token with %s', async (_, clientId, auth) => {
    const client = track(createTokenClient({ tokenEndpoint: `${issuer}/token`, clientId, auth: auth() }))
    const token = await client.getToken()
    expect(token.tokenType).toBe('Bearer')
    expect(decodeJwt(token.accessToken)).toMatchObject({ client_id: clientId, iss: issuer })
    expect(token.expiresAt - token.issuedAt).toBe(3_600_000)
  })

  it.each(strategies)('finds the token endpoint by discovery with %s', async (_, clientId, auth) => {
    const client = track(createTokenClient({ issuer, clientId, auth: auth() }))
    expect(decodeJwt((await client.getToken()).accessToken).client_id).toBe(clientId)
  })

  it("interoperates on Basic credentials with ' %&+:' in id and secret", async () => {
    const client = track(
      createTokenClient({
        tokenEndpoint: `${issuer}/token`,
        clientId: WEIRD_ID,
        auth: clientSecretBasic(WEIRD_SECRET),
      }),
    )
    expect(decodeJwt((await client.getToken()).accessToken).client_id).toBe(WEIRD_ID)
  })

  it('requests the scope and resource asked for, per call or by default', async () => {
    const client = track(
      createTokenClient({
        issuer,
        clientId: 'svc-basic',
        auth: clientSecretBasic('basic-secret'),
        scope: 'read',
        resource,
      }),
    )
    const byDefault = await client.getToken()
    expect(byDefault.scope).toBe('read')
    expect(decodeJwt(byDefault.accessToken)).toMatchObject({ scope: 'read', aud: resource })
    const wider = await client.getToken({ scope: ['write', 'read'] })
    expect(wider.scope).toBe('read write')
    expect(wider.accessToken).not.toBe(byDefault.accessToken)
  })

  it('reports invalid_client without retrying it', async () => {
    const errors: FetchErrorMessage[] = []
    const onError = (m: unknown) => errors.push(m as FetchErrorMessage)
    diagnostics_channel.subscribe(CLIENT_CHANNELS.fetchError, onError)
    try {
      const client = track(
        createTokenClient({ issuer, clientId: 'svc-basic', auth: clientSecretBasic('wrong-secret') }),
      )
      const error = await client.getToken().catch((e: unknown) => e)
      expect(error).toBeInstanceOf(OAuthResponseError)
      expect(error).toMatchObject({ error: 'invalid_client', status: 401 })
      expect(errors.at(-1)?.attempts).toBe(1)
    } finally {
      diagnostics_channel.unsubscribe(CLIENT_CHANNELS.fetchError, onError)
    }
  })

  it('answers 10 000 concurrent callers with one token request', async () => {
    const client = track(
      createTokenClient({ issuer, clientId: 'svc-post', auth: clientSecretPost('post-secret') }),
    )
    const before = starts.filter((s) => s.clientId === 'svc-post').length
    const tokens = await Promise.all(Array.from({ length: 10_000 }, () => client.getToken()))
    expect(new Set(tokens.map((t) => t.accessToken)).size).toBe(1)
    expect(starts.filter((s) => s.clientId === 'svc-post').length - before).toBe(1)
  })
})

describe('client.fetch against a protected API', () => {
  function apiClient(): TokenClient {
    return track(
      createTokenClient({ issuer, clientId: 'svc-basic', auth: clientSecretBasic('basic-secret'), resource }),
    )
  }
  const tokenRequests = () => starts.filter((s) => s.clientId === 'svc-basic').length

  it('sends the token and gets through', async () => {
    const client = apiClient()
    const res = await client.fetch(`${apiOrigin}/things`)
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ client: 'svc-basic' })
    expect(apiCalls).toHaveLength(1)
  })

  it('on 401 invalid_token fetches exactly one new token and retries exactly once', async () => {
    const client = apiClient()
    const old = (await client.getToken()).accessToken
    rejectedTokens.add(old)
    const before = tokenRequests()
    const res = await client.fetch(`${apiOrigin}/things`, { method: 'POST', body: JSON.stringify({ a: 1 }) })
    expect(res.status).toBe(200)
    expect(apiCalls).toHaveLength(2)
    expect(apiCalls[0]!.authorization).toBe(`Bearer ${old}`)
    expect(apiCalls[1]!.authorization).not.toBe(`Bearer ${old}`)
    expect(tokenRequests() - before).toBe(1)
  })

  it('fetches one new token for many concurrent requests refused with the same token', async () => {
    const client = apiClient()
    rejectedTokens.add((await client.getToken()).accessToken)
    const before = tokenRequests()
    const answers = await Promise.all(Array.from({ length: 20 }, () => client.fetch(`${apiOrigin}/things`)))
    expect(answers.every((r) => r.status === 200)).toBe(true)
    expect(tokenRequests() - before).toBe(1)
    expect(apiCalls).toHaveLength(40)
  })

  it('works the same through the undici interceptor', async () => {
    const client = apiClient()
    const agent = new Agent().compose(client.interceptor())
    try {
      const old = (await client.getToken()).accessToken
      rejectedTokens.add(old)
      const res = await request(`${apiOrigin}/things`, { dispatcher: agent })
      expect(res.statusCode).toBe(200)
      expect(await res.body.json()).toEqual({ client: 'svc-basic' })
      expect(apiCalls).toHaveLength(2)
      expect(apiCalls[1]!.authorization).toMatch(/^Bearer /)
      expect(apiCalls[1]!.authorization).not.toBe(`Bearer ${old}`)
    } finally {
      await agent.close()
    }
  })
})
