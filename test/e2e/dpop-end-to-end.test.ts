/**
 * DPoP (RFC 9449) end to end over real loopback HTTP, with every part real: our client
 * (`dpop: true`) gets a token from our reference server, which binds it to the client's key, and
 * calls an API protected by our verifier through each of the five middleware adapters (node:http,
 * Express, Fastify, Hono, fetch). Both ends require nonces, so the client goes through the nonce
 * dance at the token endpoint (§8) and at the resource (§9), once each. A stolen token is refused
 * without the key: sent as Bearer, with a proof by another key, or with the client's own proof
 * replayed. And a certified peer no one here wrote, oauth4webapi, does the same as the client.
 */
import { createHash, randomUUID } from 'node:crypto'
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { clientSecretBasic, createTokenClient, type TokenClient } from '@oauth-m2m/client'
import { type AuthorizationServer, createAuthorizationServer } from '@oauth-m2m/server'
import { createVerifier, type Verifier } from '@oauth-m2m/verifier'
import { calculateJwkThumbprint, decodeJwt, exportJWK, generateKeyPair, SignJWT } from 'jose'
import { request } from 'undici'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import * as oauth from './support/oauth4webapi.js'
import { type AppUnderTest, MIDDLEWARE_APPS, type PrincipalSummary } from './support/protected-apps.js'

const CLIENT_ID = 'dpop-service'
const SECRET = 'dpop-service-secret-0123456789abcdef'
const RESOURCE = 'https://api.example.test/'
const OPAQUE_RESOURCE = 'https://ledger.example.test/'
const RS_ID = 'ledger-api'
const RS_SECRET = 'ledger-api-secret-0123456789abcdef'

/** One request a client sent, as undici reported it: where, the answer, and what it carried. */
interface Exchange {
  origin: string
  method: string
  path: string
  status: number
  /** The `Authorization` and `DPoP` headers sent. */
  authorization: string | undefined
  dpop: string | undefined
}

/** Every request undici sends from now on (any copy of undici: the channel is Node's). */
function recordTraffic(): { log: Exchange[]; stop(): void } {
  const log: Exchange[] = []
  const onHeaders = (message: unknown): void => {
    const { request: req, response } = message as {
      request: { origin: string | URL; method: string; path: string; headers: string[] | string }
      response: { statusCode: number }
    }
    const headers = Array.isArray(req.headers) ? req.headers : []
    const header = (name: string) => {
      for (let i = 0; i < headers.length; i += 2)
        if (headers[i]!.toLowerCase() === name) return headers[i + 1]
      return undefined
    }
    log.push({
      origin: String(req.origin).replace(/\/$/, ''),
      method: req.method,
      path: req.path,
      status: response.statusCode,
      authorization: header('authorization'),
      dpop: header('dpop'),
    })
  }
  subscribe('undici:request:headers', onHeaders)
  return { log, stop: () => unsubscribe('undici:request:headers', onHeaders) }
}

function proofNonce(exchange: Exchange): unknown {
  return exchange.dpop === undefined ? undefined : decodeJwt(exchange.dpop).nonce
}

let as: AuthorizationServer
let issuer: string

beforeAll(async () => {
  as = await createAuthorizationServer({
    clients: [
      { client_id: CLIENT_ID, client_secret: SECRET, scope: 'read', dpop_bound_access_tokens: true },
      // The opaque-token API introspects as this client.
      { client_id: RS_ID, client_secret: RS_SECRET, scope: '' },
    ],
    resources: [{ resource: RESOURCE }, { resource: OPAQUE_RESOURCE, tokenFormat: 'opaque' }],
    dpop: { nonce: true },
  })
  issuer = (await as.listen()).url
})
afterAll(() => as.close())

const closing: { close(): Promise<void> | void }[] = []
afterEach(async () => {
  for (const item of closing.splice(0).reverse()) await item.close()
})

function dpopClient(appUrl: string): TokenClient {
  const client = createTokenClient({
    issuer,
    clientId: CLIENT_ID,
    auth: clientSecretBasic(SECRET),
    scope: 'read',
    resource: RESOURCE,
    origins: [appUrl],
    dpop: true,
    retry: false,
  })
  closing.push(client)
  return client
}

/** The API behind one middleware adapter, its verifier requiring resource-server nonces. */
async function startApi(
  start: (typeof MIDDLEWARE_APPS)[keyof typeof MIDDLEWARE_APPS],
): Promise<AppUnderTest> {
  const verifier: Verifier = createVerifier({ issuer, audience: RESOURCE, dpop: { nonce: true } })
  closing.push(verifier)
  const app = await start({ verifier })
  closing.push(app)
  return app
}

/** A GET with exactly these headers; the body as JSON when it is. */
async function get(url: string, headers: Record<string, string>) {
  const res = await request(url, { headers })
  const text = await res.body.text()
  return { status: res.statusCode, headers: res.headers, text }
}

describe.each(Object.entries(MIDDLEWARE_APPS))('DPoP end to end with the %s middleware', (_name, start) => {
  it('our client gets a bound token through the token-endpoint nonce dance and calls the API through the resource nonce dance', async () => {
    const app = await startApi(start)
    const client = dpopClient(app.url)
    const traffic = recordTraffic()
    try {
      const res = await client.fetch(`${app.url}/things?page=1`)
      expect(res.status).toBe(200)
      expect((await res.json()) as PrincipalSummary).toEqual({ clientId: CLIENT_ID, scopes: ['read'] })

      const token = await client.getToken()
      expect(token.tokenType).toBe('DPoP')
      const claims = decodeJwt(token.accessToken)
      expect(claims.cnf).toEqual({ jkt: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) })
      expect(claims.aud).toBe(RESOURCE)

      const toServer = traffic.log.filter((e) => e.origin === issuer && e.path === '/token')
      expect(toServer.map((e) => e.status)).toEqual([400, 200])
      expect(proofNonce(toServer[0]!)).toBeUndefined()
      expect(proofNonce(toServer[1]!)).toEqual(expect.any(String))

      const toApi = traffic.log.filter((e) => e.origin === app.url)
      expect(toApi.map((e) => e.status)).toEqual([401, 200])
      expect(proofNonce(toApi[0]!)).toBeUndefined()
      expect(proofNonce(toApi[1]!)).toEqual(expect.any(String))
      for (const exchange of toApi) expect(exchange.authorization).toBe(`DPoP ${token.accessToken}`)
      // A fresh proof every time, never reused.
      expect(new Set(toApi.map((e) => decodeJwt(e.dpop!).jti)).size).toBe(2)

      // Both nonces are remembered: the next call needs one round trip and no token request.
      traffic.log.length = 0
      expect((await client.fetch(`${app.url}/things`)).status).toBe(200)
      const clientTraffic = traffic.log.filter((e) => e.origin === app.url || e.path === '/token')
      expect(clientTraffic.map((e) => [e.origin === app.url, e.status])).toEqual([[true, 200]])
    } finally {
      traffic.stop()
    }
  })

  it('a stolen token is useless without the key', async () => {
    const app = await startApi(start)
    const client = dpopClient(app.url)
    const traffic = recordTraffic()
    try {
      expect((await client.fetch(`${app.url}/things`)).status).toBe(200)
    } finally {
      traffic.stop()
    }
    const sent = traffic.log.filter((e) => e.origin === app.url && e.status === 200).at(-1)!
    const { accessToken } = await client.getToken()
    const url = `${app.url}/things`

    // As a Bearer token (a downgrade, RFC 9449 §7.2).
    const asBearer = await get(url, { authorization: `Bearer ${accessToken}` })
    expect(asBearer.status).toBe(401)

    // With a proof of the thief's own key, right in every other respect (the nonce is public: it
    // is the one the client's proof carried).
    const nonce = decodeJwt(sent.dpop!).nonce
    expect(nonce).toEqual(expect.any(String))
    const thief = await generateKeyPair('ES256')
    const thiefJwk = await exportJWK(thief.publicKey)
    const forged = await new SignJWT({
      jti: randomUUID(),
      htm: 'GET',
      htu: url,
      iat: Math.floor(Date.now() / 1000),
      ath: createHash('sha256').update(accessToken).digest('base64url'),
      nonce,
    })
      .setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk: thiefJwk })
      .sign(thief.privateKey)
    expect(await calculateJwkThumbprint(thiefJwk)).not.toBe(
      (decodeJwt(accessToken).cnf as { jkt: string }).jkt,
    )
    const withForgedProof = await get(url, { authorization: `DPoP ${accessToken}`, dpop: forged })
    expect(withForgedProof.status).toBe(401)
    expect(String(withForgedProof.headers['www-authenticate'])).toMatch(
      /^DPoP .*error="invalid_(dpop_proof|token)"/,
    )

    // The client's own request, token and proof, sent again as captured.
    const replayed = await get(url, { authorization: sent.authorization!, dpop: sent.dpop! })
    expect(replayed.status).toBe(401)
    expect(String(replayed.headers['www-authenticate'])).toMatch(/error="invalid_dpop_proof"/)

    // The key holder still gets in.
    expect((await client.fetch(url)).status).toBe(200)
  })

  it('oauth4webapi: a token from our server and a protected-resource request to our middleware, nonce dances included', async () => {
    const app = await startApi(start)
    const http = { [oauth.allowInsecureRequests]: true } as const
    const metadata = await oauth.processDiscoveryResponse(
      new URL(issuer),
      await oauth.discoveryRequest(new URL(issuer), { algorithm: 'oauth2', ...http }),
    )
    const client: oauth.Client = { client_id: CLIENT_ID }
    const keyPair = await oauth.generateKeyPair('ES256')
    const DPoP = oauth.DPoP(client, keyPair)
    /** Once more after a use_dpop_nonce: the handle keeps the nonce it was given. */
    const withNonceRetry = async <T>(attempt: () => Promise<T>): Promise<T> => {
      try {
        return await attempt()
      } catch (error) {
        if (!oauth.isDPoPNonceError(error)) throw error
        return attempt()
      }
    }
    const tokens = await withNonceRetry(async () =>
      oauth.processClientCredentialsResponse(
        metadata,
        client,
        await oauth.clientCredentialsGrantRequest(
          metadata,
          client,
          oauth.ClientSecretBasic(SECRET),
          { scope: 'read', resource: RESOURCE },
          { DPoP, ...http },
        ),
      ),
    )
    expect(tokens.token_type).toBe('dpop')
    const res = await withNonceRetry(() =>
      oauth.protectedResourceRequest(
        tokens.access_token,
        'GET',
        new URL(`${app.url}/things`),
        new Headers(),
        null,
        { DPoP, ...http },
      ),
    )
    expect(res.status).toBe(200)
    expect((await res.json()) as PrincipalSummary).toEqual({ clientId: CLIENT_ID, scopes: ['read'] })
  })
})

describe('an opaque DPoP-bound token, checked by introspection', () => {
  it('the server remembers the binding, introspection tells the verifier, the client gets in and a thief does not', async () => {
    const verifier = createVerifier({
      issuer,
      audience: OPAQUE_RESOURCE,
      introspection: { clientId: RS_ID, auth: clientSecretBasic(RS_SECRET) },
    })
    closing.push(verifier)
    const app = await MIDDLEWARE_APPS['node:http']({ verifier })
    closing.push(app)
    const client = createTokenClient({
      issuer,
      clientId: CLIENT_ID,
      auth: clientSecretBasic(SECRET),
      scope: 'read',
      resource: OPAQUE_RESOURCE,
      origins: [app.url],
      dpop: true,
      retry: false,
    })
    closing.push(client)

    const res = await client.fetch(`${app.url}/things`)
    expect(res.status).toBe(200)
    expect((await res.json()) as PrincipalSummary).toEqual({ clientId: CLIENT_ID, scopes: ['read'] })
    const { accessToken, tokenType } = await client.getToken()
    expect(tokenType).toBe('DPoP')
    expect(accessToken).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect((await get(`${app.url}/things`, { authorization: `Bearer ${accessToken}` })).status).toBe(401)
    expect((await get(`${app.url}/things`, { authorization: `DPoP ${accessToken}` })).status).toBe(401)
  })
})
