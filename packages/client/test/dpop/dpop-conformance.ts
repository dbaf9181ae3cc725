/**
 * DPoP on resource requests (RFC 9449 §7, §9), written once and run through `client.fetch`
 * (dpop-fetch.test.ts) and `client.interceptor()` (dpop-interceptor.test.ts): `Authorization:
 * DPoP` with a fresh proof per send carrying `ath`, only to allowed origins; the nonce dance with
 * a resource server and nonces remembered per origin; the `invalid_token` replay rule.
 */
import { createHash, generateKeyPairSync } from 'node:crypto'
import { clientSecretBasic } from '@oauth-m2m/core'
import { createMswDispatcher } from '@oauth-m2m/testing/msw'
import { calculateJwkThumbprint, exportJWK } from 'jose'
import { HttpResponse, http } from 'msw'
import type { Dispatcher } from 'undici'
import { afterEach, expect, it } from 'vitest'
import { createTokenClient, type TokenClient, type TokenClientOptions } from '../../src/index.js'
import { TOKEN_ENDPOINT, tokenAnswer } from '../msw-token-server.js'
import { checkProof } from './proof-check.js'

/** The API whose origin is the client's `resource`. */
export const API = 'https://api.example.test'
/** Another origin, which gets no token unless told so. */
export const OTHER = 'https://other.example.test'

/** A request, in the terms both entry points understand. */
export interface SendOptions {
  method?: string
  headers?: Record<string, string>
  body?: unknown
}

/** How a request is sent through one entry point. */
export interface EntryPoint {
  /** Sends a request through the client, reads the whole answer and returns its status. */
  send(client: TokenClient, dispatcher: Dispatcher, url: string, options?: SendOptions): Promise<number>
  /** A body that can be read only once. */
  streamBody(text: string): unknown
  /** The `htm` a request sent with `method` must carry: what the entry point puts on the wire. */
  wireMethod(method: string): string
}

/** One request as the API received it. */
export interface ApiCall {
  method: string
  url: string
  authorization: string | null
  dpop: string | null
}

/** What the API answers to the n-th call (from 1); default 200. */
export type ApiAnswer = (n: number, call: ApiCall) => Response | undefined

const key = generateKeyPairSync('ec', { namedCurve: 'P-256' })
const keyJkt = await calculateJwkThumbprint(await exportJWK(key.publicKey))

const ath = (token: string) => createHash('sha256').update(token).digest('base64url')

const clients: TokenClient[] = []

/** A 401 asking for a DPoP nonce (RFC 9449 §9). */
export function useNonce(nonce: string | undefined): Response {
  return new HttpResponse(null, {
    status: 401,
    headers: {
      'www-authenticate':
        'DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"',
      ...(nonce === undefined ? {} : { 'dpop-nonce': nonce }),
    },
  })
}

/** A 401 refusing the token, with the DPoP scheme (RFC 9449 §7.1). */
export function invalidToken(): Response {
  return new HttpResponse(null, {
    status: 401,
    headers: { 'www-authenticate': 'DPoP algs="ES256", error="invalid_token"' },
  })
}

/**
 * A token endpoint answering tokens of `tokenType` (distinct each time) and two APIs that record
 * their calls.
 */
function setup(
  api: ApiAnswer = () => undefined,
  options: Partial<TokenClientOptions> = {},
  tokenType = 'DPoP',
) {
  const calls: ApiCall[] = []
  const tokenRequests: Request[] = []
  const handler = async ({ request }: { request: Request }) => {
    await request.arrayBuffer()
    const call = {
      method: request.method,
      url: request.url,
      authorization: request.headers.get('authorization'),
      dpop: request.headers.get('dpop'),
    }
    calls.push(call)
    return api(calls.length, call) ?? HttpResponse.json({ ok: true })
  }
  const dispatcher = createMswDispatcher([
    http.post(TOKEN_ENDPOINT, ({ request }) => {
      tokenRequests.push(request)
      return tokenAnswer({ token_type: tokenType })
    }),
    http.all(`${API}/*`, handler),
    http.all(`${OTHER}/*`, handler),
  ])
  const client = createTokenClient({
    tokenEndpoint: TOKEN_ENDPOINT,
    clientId: 'service-a',
    auth: clientSecretBasic('s3cret'),
    resource: API,
    dispatcher,
    retry: false,
    dpop: { key },
    ...options,
  })
  clients.push(client)
  const current = async () => (await client.getToken()).accessToken
  return { client, calls, tokenRequests, current, dispatcher }
}

/** Registers the shared specification in the current `describe` block. */
export function dpopConformance(entry: EntryPoint): void {
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()))
  })

  it('sends Authorization: DPoP and a proof of the key for this request with ath, to allowed origins only', async () => {
    const { client, calls, current, dispatcher } = setup()
    expect(
      await entry.send(client, dispatcher, `${API}/things?page=2#top`, { method: 'PATCH', body: 'x' }),
    ).toBe(200)
    expect(await entry.send(client, dispatcher, `${OTHER}/things`)).toBe(200)
    const token = await current()
    expect(calls[0]!.authorization).toBe(`DPoP ${token}`)
    const { claims, jkt } = await checkProof(calls[0]!.dpop)
    expect(jkt).toBe(keyJkt)
    expect(claims).toMatchObject({ htm: entry.wireMethod('PATCH'), htu: `${API}/things`, ath: ath(token) })
    expect(claims).not.toHaveProperty('nonce')
    expect(calls[1]).toMatchObject({ authorization: null, dpop: null })
  })

  it('makes a new proof for every request', async () => {
    const { client, calls, dispatcher } = setup()
    await entry.send(client, dispatcher, `${API}/a`)
    await entry.send(client, dispatcher, `${API}/a`)
    const [a, b] = await Promise.all(calls.map((c) => checkProof(c.dpop)))
    expect(a!.claims.jti).not.toBe(b!.claims.jti)
    expect(calls[0]!.dpop).not.toBe(calls[1]!.dpop)
  })

  it("leaves a request with the caller's own Authorization as it is: no proof added", async () => {
    const { client, calls, dispatcher } = setup()
    await entry.send(client, dispatcher, `${API}/things`, { headers: { Authorization: 'Bearer mine' } })
    expect(calls[0]).toMatchObject({ authorization: 'Bearer mine', dpop: null })
  })

  it('sends a Bearer token as Bearer, without a proof, with allowBearerFallback', async () => {
    const { client, calls, current, dispatcher } = setup(
      undefined,
      { dpop: { key, allowBearerFallback: true } },
      'Bearer',
    )
    await entry.send(client, dispatcher, `${API}/things`)
    expect(calls[0]).toMatchObject({ authorization: `Bearer ${await current()}`, dpop: null })
  })

  it('on 401 DPoP use_dpop_nonce sends the request once more, same token, with a new proof carrying the nonce', async () => {
    const { client, calls, current, dispatcher } = setup((n) =>
      n === 1 ? useNonce('rs-nonce-1') : undefined,
    )
    expect(await entry.send(client, dispatcher, `${API}/things`, { method: 'POST', body: 'payload' })).toBe(
      200,
    )
    expect(calls).toHaveLength(2)
    const token = await current()
    expect(calls.map((c) => c.authorization)).toEqual([`DPoP ${token}`, `DPoP ${token}`])
    const [first, second] = await Promise.all(calls.map((c) => checkProof(c.dpop)))
    expect(first!.claims).not.toHaveProperty('nonce')
    expect(second!.claims).toMatchObject({ nonce: 'rs-nonce-1', ath: ath(token), htm: 'POST' })
    expect(second!.claims.jti).not.toBe(first!.claims.jti)
  })

  it('sends it once more only, when the server wants yet another nonce', async () => {
    const { client, calls, dispatcher } = setup((n) => useNonce(`rs-nonce-${n}`))
    expect(await entry.send(client, dispatcher, `${API}/things`)).toBe(401)
    expect(calls).toHaveLength(2)
  })

  it('does not send again for use_dpop_nonce without a DPoP-Nonce', async () => {
    const { client, calls, dispatcher } = setup(() => useNonce(undefined))
    expect(await entry.send(client, dispatcher, `${API}/things`)).toBe(401)
    expect(calls).toHaveLength(1)
  })

  it('does not replay a stream body for a nonce, but the next request carries it from the start', async () => {
    const { client, calls, dispatcher } = setup((n) => (n === 1 ? useNonce('rs-nonce-1') : undefined))
    expect(
      await entry.send(client, dispatcher, `${API}/things`, { method: 'POST', body: entry.streamBody('s') }),
    ).toBe(401)
    expect(calls).toHaveLength(1)
    expect(await entry.send(client, dispatcher, `${API}/things`)).toBe(200)
    expect(calls).toHaveLength(2)
    expect((await checkProof(calls[1]!.dpop)).claims.nonce).toBe('rs-nonce-1')
  })

  it('remembers the latest DPoP-Nonce of any answer, per origin', async () => {
    const { client, calls, tokenRequests, dispatcher } = setup(
      (n, call) =>
        new URL(call.url).origin === API
          ? HttpResponse.json({}, { headers: { 'dpop-nonce': `api-${n}` } })
          : undefined,
      { origins: [API, OTHER] },
    )
    await entry.send(client, dispatcher, `${API}/a`)
    await entry.send(client, dispatcher, `${API}/b`)
    await entry.send(client, dispatcher, `${OTHER}/c`)
    const proofs = await Promise.all(calls.map((c) => checkProof(c.dpop)))
    expect(proofs.map((p) => p.claims.nonce)).toEqual([undefined, 'api-1', undefined])
    // Nor does the token endpoint get the API's nonce.
    client.invalidate()
    await client.getToken()
    const tokenProof = await checkProof(tokenRequests.at(-1)!.headers.get('dpop'))
    expect(tokenProof.claims).not.toHaveProperty('nonce')
  })

  it('keeps the nonces of a token endpoint and a resource on one origin apart (§9)', async () => {
    const { client, calls, dispatcher } = setup(
      (n, call) =>
        call.url.endsWith('/token')
          ? (() => {
              const answer = tokenAnswer({ token_type: 'DPoP' })
              answer.headers.set('dpop-nonce', `as-${n}`)
              return answer
            })()
          : HttpResponse.json({}, { headers: { 'dpop-nonce': `rs-${n}` } }),
      { tokenEndpoint: `${API}/token` },
    )
    await entry.send(client, dispatcher, `${API}/a`) // token request (1), then /a (2)
    client.invalidate()
    await client.getToken() // (3)
    await entry.send(client, dispatcher, `${API}/b`) // (4)
    const proofs = await Promise.all(calls.map((c) => checkProof(c.dpop)))
    expect(calls.map((c) => new URL(c.url).pathname)).toEqual(['/token', '/a', '/token', '/b'])
    expect(proofs.map((p) => p.claims.nonce)).toEqual([undefined, undefined, 'as-1', 'rs-2'])
  })

  it('on 401 DPoP invalid_token fetches one new token and sends once more with a proof for it', async () => {
    const { client, calls, current, dispatcher } = setup((n) => (n === 1 ? invalidToken() : undefined))
    const old = await current()
    expect(await entry.send(client, dispatcher, `${API}/things`)).toBe(200)
    const fresh = await current()
    expect(fresh).not.toBe(old)
    expect(calls.map((c) => c.authorization)).toEqual([`DPoP ${old}`, `DPoP ${fresh}`])
    expect((await checkProof(calls[1]!.dpop)).claims.ath).toBe(ath(fresh))
  })

  it('applies each rule once: a nonce, then a refused token, then done', async () => {
    const { client, calls, dispatcher } = setup((n) =>
      n === 1
        ? useNonce('rs-nonce-1')
        : n === 2
          ? invalidToken()
          : n === 3
            ? useNonce('rs-nonce-2')
            : undefined,
    )
    expect(await entry.send(client, dispatcher, `${API}/things`)).toBe(401)
    expect(calls).toHaveLength(3)
  })
}
