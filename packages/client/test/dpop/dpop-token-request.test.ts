/**
 * DPoP on the token endpoint (RFC 9449 §5, §8): a proof per request, the DPoP token type, the
 * nonce dance, nonces remembered per origin, and the key's thumbprint in the cache key.
 */
import { generateKeyPairSync } from 'node:crypto'
import diagnostics_channel from 'node:diagnostics_channel'
import { clientSecretBasic, clientSecretJwt, HttpError, OAuthResponseError } from '@oauth-m2m/core'
import { calculateJwkThumbprint, exportJWK } from 'jose'
import { HttpResponse } from 'msw'
import { afterEach, describe, expect, it } from 'vitest'
import {
  CLIENT_CHANNELS,
  createTokenClient,
  DpopNotBoundError,
  MemoryTokenStore,
  type TokenClient,
  type TokenClientOptions,
  type TokenSet,
  type TokenStore,
} from '../../src/index.js'
import {
  type Answer,
  oauthErrorAnswer,
  scriptedTokenServer,
  TOKEN_ENDPOINT,
  tokenAnswer,
} from '../msw-token-server.js'
import { checkProof } from './proof-check.js'

const clients: TokenClient[] = []
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
})

const key = generateKeyPairSync('ec', { namedCurve: 'P-256' })
const keyJkt = await calculateJwkThumbprint(await exportJWK(key.publicKey))

function setup(answer: Answer, options: Partial<TokenClientOptions> = {}) {
  const server = scriptedTokenServer(answer)
  const client = createTokenClient({
    tokenEndpoint: TOKEN_ENDPOINT,
    clientId: 'service-a',
    auth: clientSecretBasic('s3cret'),
    dispatcher: server.dispatcher,
    retry: { minDelayMs: 1, maxDelayMs: 5 },
    dpop: { key },
    ...options,
  })
  clients.push(client)
  return { server, client }
}

const dpopAnswer = (extra: Record<string, string | number> = {}) =>
  tokenAnswer({ token_type: 'DPoP', ...extra })
const useNonce = (nonce: string | undefined) =>
  oauthErrorAnswer(400, 'use_dpop_nonce', nonce === undefined ? {} : { 'dpop-nonce': nonce })

function listen(channel: string): { messages: unknown[]; stop: () => void } {
  const messages: unknown[] = []
  const fn = (m: unknown) => messages.push(m)
  diagnostics_channel.subscribe(channel, fn)
  return { messages, stop: () => diagnostics_channel.unsubscribe(channel, fn) }
}

describe('a DPoP token request', () => {
  it('carries a proof of the key for POST to the token endpoint, without ath or nonce, and gets a DPoP token', async () => {
    const { server, client } = setup(() => dpopAnswer())
    const token = await client.getToken()
    expect(token.tokenType).toBe('DPoP')
    const { claims, jkt } = await checkProof(server.requests[0]!.headers.get('dpop'))
    expect(jkt).toBe(keyJkt)
    expect(claims.htm).toBe('POST')
    expect(claims.htu).toBe(TOKEN_ENDPOINT)
    expect(claims).not.toHaveProperty('ath')
    expect(claims).not.toHaveProperty('nonce')
    // The client still authenticates as before.
    expect(server.requests[0]!.headers.get('authorization')).toMatch(/^Basic /)
  })

  it('names the token endpoint without its query in htu', async () => {
    const server = scriptedTokenServer(() => dpopAnswer())
    const client = createTokenClient({
      tokenEndpoint: `${TOKEN_ENDPOINT}?tenant=a`,
      clientId: 'service-a',
      auth: clientSecretBasic('s3cret'),
      dispatcher: server.dispatcher,
      dpop: true,
    })
    clients.push(client)
    await client.getToken()
    expect((await checkProof(server.requests[0]!.headers.get('dpop'))).claims.htu).toBe(TOKEN_ENDPOINT)
  })

  it('takes token_type DPoP in any case', async () => {
    const { client } = setup(() => tokenAnswer({ token_type: 'dpop' }))
    expect((await client.getToken()).tokenType).toBe('DPoP')
  })

  it('refuses a Bearer token with DpopNotBoundError (ERR_DPOP_NOT_BOUND), without retrying', async () => {
    const { server, client } = setup(() => tokenAnswer({ token_type: 'Bearer', access_token: 'leaky-token' }))
    const error = await client.getToken().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(DpopNotBoundError)
    expect(error).toMatchObject({ code: 'ERR_DPOP_NOT_BOUND' })
    expect(JSON.stringify({ ...(error as Error), m: (error as Error).message })).not.toContain('leaky-token')
    expect(server.requests).toHaveLength(1)
  })

  it('takes a Bearer token with allowBearerFallback', async () => {
    const { client } = setup(() => tokenAnswer({ token_type: 'Bearer' }), {
      dpop: { key, allowBearerFallback: true },
    })
    expect((await client.getToken()).tokenType).toBe('Bearer')
  })

  it('refuses any other token type', async () => {
    const { client } = setup(() => tokenAnswer({ token_type: 'N_A' }), { retry: false })
    await expect(client.getToken()).rejects.toThrow(/a token_type other than DPoP or Bearer/)
  })

  it('is not made by a client without the dpop option, which refuses a DPoP token', async () => {
    const { server, client } = setup(() => dpopAnswer(), { dpop: undefined, retry: false })
    const error = await client.getToken().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(HttpError)
    expect((error as Error).message).toMatch(/a token_type other than Bearer/)
    expect(server.requests[0]!.headers.get('dpop')).toBeNull()
  })

  it('gets a new proof for every attempt', async () => {
    const { server, client } = setup((n) =>
      n === 1 ? new HttpResponse('oops', { status: 503 }) : dpopAnswer(),
    )
    await client.getToken()
    const [a, b] = await Promise.all(server.requests.map((r) => checkProof(r.headers.get('dpop'))))
    expect(a!.claims.jti).not.toBe(b!.claims.jti)
  })
})

describe('DPoP nonces from the token endpoint', () => {
  it('on 400 use_dpop_nonce with a DPoP-Nonce sends the request once more with a new proof carrying it', async () => {
    const { server, client } = setup((n) => (n === 1 ? useNonce('n-1') : dpopAnswer()), {
      retry: false,
      auth: clientSecretJwt('a-client-secret-of-32-bytes-or-more!'),
    })
    expect((await client.getToken()).tokenType).toBe('DPoP')
    expect(server.requests).toHaveLength(2)
    const [first, second] = await Promise.all(server.requests.map((r) => checkProof(r.headers.get('dpop'))))
    expect(first!.claims).not.toHaveProperty('nonce')
    expect(second!.claims.nonce).toBe('n-1')
    expect(second!.claims.jti).not.toBe(first!.claims.jti)
    // Client authentication is fresh too: a new assertion, not the first one replayed.
    const assertions = server.requests.map((r) => r.form.get('client_assertion'))
    expect(assertions[0]).not.toBe(assertions[1])
  })

  it('retries only once: a second use_dpop_nonce is the error', async () => {
    const { server, client } = setup((n) => useNonce(`n-${n}`))
    const error = await client.getToken().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(OAuthResponseError)
    expect(error).toMatchObject({ error: 'use_dpop_nonce', status: 400 })
    expect(server.requests).toHaveLength(2)
  })

  it('does not retry a use_dpop_nonce without a DPoP-Nonce, nor one with a malformed nonce', async () => {
    for (const nonce of [undefined, 'has space', 'quote"d', '']) {
      const { server, client } = setup(() => useNonce(nonce))
      await expect(client.getToken()).rejects.toMatchObject({ error: 'use_dpop_nonce' })
      expect(server.requests).toHaveLength(1)
    }
  })

  it('does not take a nonce as a reason to retry another 400', async () => {
    const { server, client } = setup(() =>
      oauthErrorAnswer(400, 'invalid_dpop_proof', { 'dpop-nonce': 'n-1' }),
    )
    await expect(client.getToken()).rejects.toMatchObject({ error: 'invalid_dpop_proof' })
    expect(server.requests).toHaveLength(1)
  })

  it('remembers the nonce and sends it at once next time, without the extra round trip', async () => {
    const { server, client } = setup((n) => (n === 1 ? useNonce('n-1') : dpopAnswer()))
    await client.getToken()
    client.invalidate()
    await client.getToken()
    expect(server.requests).toHaveLength(3)
    expect((await checkProof(server.requests[2]!.headers.get('dpop'))).claims.nonce).toBe('n-1')
  })

  it('follows the latest nonce of any answer, a 200 included', async () => {
    const { server, client } = setup((n) =>
      n === 1
        ? useNonce('n-1')
        : HttpResponse.json(
            { access_token: `t${n}`, token_type: 'DPoP', expires_in: 60 },
            { headers: { 'dpop-nonce': `n-${n}` } },
          ),
    )
    await client.getToken()
    client.invalidate()
    await client.getToken()
    expect((await checkProof(server.requests[2]!.headers.get('dpop'))).claims.nonce).toBe('n-2')
  })
})

describe("the DPoP key's thumbprint in the cache key", () => {
  /** Records the keys and values written. */
  function recordingStore(): TokenStore & { keys: string[] } {
    const inner = new MemoryTokenStore()
    const keys: string[] = []
    return {
      keys,
      get: (k) => inner.get(k),
      set: (k, v, ttl) => {
        keys.push(k)
        inner.set(k, v, ttl)
      },
      delete: (k) => inner.delete(k),
    }
  }

  it('is part of the key, so a shared store never hands a token bound to another key', async () => {
    const store = recordingStore()
    const a = setup(() => dpopAnswer(), { store, dpop: true })
    const b = setup(() => dpopAnswer(), { store, dpop: true })
    const plain = setup(() => tokenAnswer(), { store, dpop: undefined })
    const tokenA = await a.client.getToken()
    const tokenB = await b.client.getToken()
    const tokenPlain = await plain.client.getToken()
    expect(new Set([tokenA.accessToken, tokenB.accessToken, tokenPlain.accessToken]).size).toBe(3)
    expect(a.server.requests).toHaveLength(1)
    expect(b.server.requests).toHaveLength(1)
    expect(new Set(store.keys).size).toBe(3)
    const [jktA, jktB] = await Promise.all(
      [a, b].map(async (s) => (await checkProof(s.server.requests[0]!.headers.get('dpop'))).jkt),
    )
    expect(store.keys[0]).toContain(jktA)
    expect(store.keys[1]).toContain(jktB)
    expect(store.keys[2]).not.toContain('jkt')
  })

  it('lets two clients of the same key share a token through the store', async () => {
    const store = recordingStore()
    const a = setup(() => dpopAnswer(), { store })
    const b = setup(() => dpopAnswer(), { store })
    const tokenA = await a.client.getToken()
    // Let the background write land.
    await new Promise((resolve) => setImmediate(resolve))
    expect(await b.client.getToken()).toEqual(tokenA)
    expect(b.server.requests).toHaveLength(0)
    expect(store.keys[0]).toContain(keyJkt)
  })

  it('ignores a stored token of a type the client cannot send', async () => {
    const wrong = (tokenType: string): TokenSet =>
      ({
        accessToken: 'stored',
        tokenType,
        issuedAt: Date.now(),
        expiresAt: Date.now() + 3_600_000,
        scope: undefined,
        response: {},
      }) as unknown as TokenSet
    const errors = listen(CLIENT_CHANNELS.storeError)
    try {
      const dpopClient = setup(() => dpopAnswer(), {
        store: { get: () => wrong('Bearer'), set() {}, delete() {} },
      })
      expect((await dpopClient.client.getToken()).accessToken).not.toBe('stored')
      const bearerClient = setup(() => tokenAnswer(), {
        dpop: undefined,
        store: { get: () => wrong('DPoP'), set() {}, delete() {} },
      })
      expect((await bearerClient.client.getToken()).accessToken).not.toBe('stored')
      const fallback = setup(() => dpopAnswer(), {
        dpop: { key, allowBearerFallback: true },
        store: { get: () => wrong('Bearer'), set() {}, delete() {} },
      })
      expect((await fallback.client.getToken()).accessToken).toBe('stored')
    } finally {
      errors.stop()
    }
    expect(errors.messages).toHaveLength(2)
  })
})

describe('what DPoP never leaks', () => {
  it('keeps the proof out of errors and diagnostics, even when the server echoes it', async () => {
    const events = [CLIENT_CHANNELS.fetchError, CLIENT_CHANNELS.fetchStart, CLIENT_CHANNELS.fetchEnd].map(
      listen,
    )
    const { server, client } = setup((_, request) =>
      HttpResponse.json(
        { error: 'invalid_dpop_proof', error_description: `bad proof ${request.headers.get('dpop')}` },
        { status: 400 },
      ),
    )
    const error = (await client.getToken().catch((e: unknown) => e)) as OAuthResponseError
    for (const e of events) e.stop()
    const proof = server.requests[0]!.headers.get('dpop')!
    const signature = proof.split('.')[2]!
    expect(error.errorDescription).toMatch(/^bad proof /)
    const seen = JSON.stringify([
      error.message,
      error.errorDescription,
      { ...error },
      events.map((e) => e.messages),
    ])
    expect(seen).not.toContain(signature)
    expect(seen).not.toContain(proof)
  })
})
