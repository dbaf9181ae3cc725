/**
 * Registered clients across instances: two servers on one MemoryServerStore (which delivers store
 * events in-process) behave as a fleet, and the registry's store lookups are bounded.
 */

import { randomUUID } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { JWT_BEARER_ASSERTION_TYPE } from '@oauth-m2m/core'
import {
  createAuthorizationServer,
  MemoryServerStore,
  type StoredClient,
  type StoreEvent,
} from '@oauth-m2m/server'
import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import { afterEach, describe, expect, it } from 'vitest'
import { type Answer, basic, expectOAuthError, postForm, send, startServer } from './test-server.js'

const IAT = 'initial-access-token-0123456789-abcdefghijklmnop'
const REGISTRATION = { initialAccessTokens: [IAT] }
const SEED = { client_id: 'seed', client_secret: 'seed-secret', scope: 'read write' }
const GRANT = { grant_type: 'client_credentials' }

/** A MemoryServerStore that counts its client lookups. */
class CountingStore extends MemoryServerStore {
  readonly lookups: string[] = []

  override findClient(clientId: string): Promise<StoredClient | undefined> {
    this.lookups.push(clientId)
    return super.findClient(clientId)
  }
}

function register(url: string, metadata: unknown): Promise<Answer> {
  return send(`${url}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${IAT}` },
    body: JSON.stringify(metadata),
  })
}

function manage(uri: string, method: 'PUT' | 'DELETE', token: string, body?: unknown): Promise<Answer> {
  return send(uri, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
}

function tokenWith(url: string, clientId: string, secret: string): Promise<Answer> {
  return postForm(`${url}/token`, GRANT, basic(clientId, secret))
}

/** Two servers on one store, with one clock. */
async function fleet(registration: Record<string, unknown> = REGISTRATION, rateLimit = true) {
  const clock = { nowMs: Date.now() }
  const now = () => clock.nowMs
  const store = new CountingStore({ now })
  const config = {
    clients: [SEED],
    registration,
    store,
    now,
    ...(rateLimit ? {} : { rateLimit: false as const }),
  }
  const a = await startServer(config)
  const b = await startServer(config)
  return { a: a.url, b: b.url, store, clock }
}

describe('registered clients across instances sharing one store', () => {
  it('a client registered at A gets tokens at B at once', async () => {
    const { a, b } = await fleet()
    const { json: info } = await register(a, { scope: 'read' })
    const token = await tokenWith(b, info.client_id, info.client_secret)
    expect(token.status).toBe(200)
    expect(token.json.scope).toBe('read')
  })

  it('B drops its cached copy on the event of a deletion at A, then caches the miss', async () => {
    const { a, b, store } = await fleet()
    const { json: info } = await register(a, { scope: 'read' })
    expect((await tokenWith(b, info.client_id, info.client_secret)).status).toBe(200)

    expect(
      (await manage(info.registration_client_uri, 'DELETE', info.registration_access_token)).status,
    ).toBe(204)

    const before = store.lookups.length
    expectOAuthError(await tokenWith(b, info.client_id, info.client_secret), 401, 'invalid_client')
    expect(store.lookups.length).toBe(before + 1)
    expectOAuthError(await tokenWith(b, info.client_id, info.client_secret), 401, 'invalid_client')
    expect(store.lookups.length).toBe(before + 1)
  })

  it('an update at A (new scope, rotated secret without grace) is effective at B at once', async () => {
    const { a, b } = await fleet({ ...REGISTRATION, secretGraceSec: 0 })
    const { json: info } = await register(a, { scope: 'read' })
    expect((await tokenWith(b, info.client_id, info.client_secret)).json.scope).toBe('read')

    const updated = await manage(info.registration_client_uri, 'PUT', info.registration_access_token, {
      client_id: info.client_id,
      scope: 'write',
      rotate_client_secret: true,
    })

    expect(updated.status).toBe(200)
    expectOAuthError(await tokenWith(b, info.client_id, info.client_secret), 401, 'invalid_client')
    expect((await tokenWith(b, info.client_id, updated.json.client_secret)).json.scope).toBe('write')
  })

  it('B manages what A registered: a deletion at B is effective at A at once', async () => {
    const { a, b } = await fleet()
    const { json: info } = await register(a, { scope: 'read' })
    expect((await tokenWith(a, info.client_id, info.client_secret)).status).toBe(200)
    expect((await tokenWith(b, info.client_id, info.client_secret)).status).toBe(200)
    const atB = info.registration_client_uri.replace(a, b)

    expect((await manage(atB, 'DELETE', info.registration_access_token)).status).toBe(204)

    expectOAuthError(await tokenWith(a, info.client_id, info.client_secret), 401, 'invalid_client')
    expectOAuthError(await tokenWith(b, info.client_id, info.client_secret), 401, 'invalid_client')
  })

  it('a missed event is made good within 1 s: the cached copy ages out', async () => {
    const { a, b, store, clock } = await fleet({ ...REGISTRATION, secretGraceSec: 0 })
    const { json: info } = await register(a, { scope: 'read' })
    expect((await tokenWith(b, info.client_id, info.client_secret)).status).toBe(200)
    // A change written behind the servers' backs (no event): B keeps its copy for up to 1 s.
    const stored = (await store.findClient(info.client_id)) as StoredClient & { metadata: object }
    await store.saveClient({ ...stored, metadata: { ...stored.metadata, scope: 'write' } })

    expect((await tokenWith(b, info.client_id, info.client_secret)).json.scope).toBe('read')
    clock.nowMs += 1000
    expect((await tokenWith(b, info.client_id, info.client_secret)).json.scope).toBe('write')
  })
})

describe('store lookups of client ids', () => {
  it('a configured client never costs a store lookup', async () => {
    const { a, store } = await fleet()
    for (let i = 0; i < 5; i++) expect((await tokenWith(a, 'seed', 'seed-secret')).status).toBe(200)
    expectOAuthError(await tokenWith(a, 'seed', 'wrong'), 401, 'invalid_client')
    expect(store.lookups).toEqual([])
  })

  it('a flood of one unknown id costs one lookup per second, concurrent requests included', async () => {
    // Without brute-force protection, which would refuse the id before any lookup.
    const { a, store, clock } = await fleet(REGISTRATION, false)
    const flood = () => Promise.all(Array.from({ length: 20 }, () => tokenWith(a, 'nobody', 'guess')))

    for (const answer of await flood()) expectOAuthError(answer, 401, 'invalid_client')
    for (const answer of await flood()) expectOAuthError(answer, 401, 'invalid_client')
    expect(store.lookups).toEqual(['nobody'])

    clock.nowMs += 999
    await tokenWith(a, 'nobody', 'guess')
    expect(store.lookups).toEqual(['nobody'])
    clock.nowMs += 1
    await tokenWith(a, 'nobody', 'guess')
    expect(store.lookups).toEqual(['nobody', 'nobody'])
  })

  it('a registered client is looked up once per second, not per request', async () => {
    const { a, b, store, clock } = await fleet()
    const { json: info } = await register(a, { scope: 'read' })
    store.lookups.length = 0
    for (let i = 0; i < 5; i++)
      expect((await tokenWith(b, info.client_id, info.client_secret)).status).toBe(200)
    expect(store.lookups).toEqual([info.client_id])
    clock.nowMs += 1000
    expect((await tokenWith(b, info.client_id, info.client_secret)).status).toBe(200)
    expect(store.lookups).toEqual([info.client_id, info.client_id])
  })
})

describe('a registered client with a jwks_uri', () => {
  const servers: ReturnType<typeof createServer>[] = []
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))))
  })

  it('keeps its key cache across reloads of an unchanged registration: the key set is fetched once', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256')
    const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' }] })
    let fetches = 0
    const keyServer = createServer((_req, res) => {
      fetches++
      res.writeHead(200, { 'content-type': 'application/json' }).end(jwks)
    })
    servers.push(keyServer)
    await new Promise<void>((resolve) => keyServer.listen(0, '127.0.0.1', resolve))
    const jwksUri = `http://127.0.0.1:${(keyServer.address() as AddressInfo).port}/jwks`
    const { a, store, clock } = await fleet()
    const { json: info } = await register(a, {
      token_endpoint_auth_method: 'private_key_jwt',
      jwks_uri: jwksUri,
    })
    expect(info.client_id).toBeDefined()

    for (let i = 0; i < 3; i++) {
      const assertion = await new SignJWT({})
        .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
        .setIssuer(info.client_id)
        .setSubject(info.client_id)
        .setAudience(a)
        .setJti(randomUUID())
        .setIssuedAt(Math.floor(clock.nowMs / 1000))
        .setExpirationTime(Math.floor(clock.nowMs / 1000) + 60)
        .sign(privateKey)
      const answer = await postForm(`${a}/token`, {
        ...GRANT,
        client_assertion_type: JWT_BEARER_ASSERTION_TYPE,
        client_assertion: assertion,
      })
      expect(answer.status).toBe(200)
      clock.nowMs += 1500
    }

    expect(store.lookups.filter((id) => id === info.client_id)).toHaveLength(3)
    expect(fetches).toBe(1)
  })
})

describe('registered clients while the store cannot answer', () => {
  /** A MemoryServerStore whose client lookups fail while `down` is set. */
  class FlakyStore extends MemoryServerStore {
    down = false

    override findClient(clientId: string): Promise<StoredClient | undefined> {
      return this.down ? Promise.reject(new Error('store down')) : super.findClient(clientId)
    }
  }

  it('answers 503 (never 500) where a lookup is needed, caches no failure, and recovers by itself', async () => {
    const clock = { nowMs: Date.now() }
    const now = () => clock.nowMs
    const store = new FlakyStore({ now })
    const errors: unknown[] = []
    const { url } = await startServer({
      clients: [SEED],
      registration: REGISTRATION,
      store,
      now,
      onInternalError: (error) => errors.push(error),
    })
    const { json: info } = await register(url, { scope: 'read' })
    expect((await tokenWith(url, info.client_id, info.client_secret)).status).toBe(200)

    store.down = true
    // Looked up less than 1 s ago: served from the cache, no store round trip.
    expect((await tokenWith(url, info.client_id, info.client_secret)).status).toBe(200)
    clock.nowMs += 1000
    const unavailable = expectOAuthError(
      await tokenWith(url, info.client_id, info.client_secret),
      503,
      'temporarily_unavailable',
    )
    expect(Number(unavailable.headers.get('retry-after'))).toBeGreaterThan(0)
    expectOAuthError(await tokenWith(url, 'nobody', 'guess'), 503, 'temporarily_unavailable')
    const read = await send(info.registration_client_uri, {
      headers: { authorization: `Bearer ${info.registration_access_token}` },
    })
    expectOAuthError(read, 503, 'temporarily_unavailable')
    expect(Number(read.headers.get('retry-after'))).toBeGreaterThan(0)
    // A configured client needs no store.
    expect((await tokenWith(url, 'seed', 'seed-secret')).status).toBe(200)

    store.down = false
    expect((await tokenWith(url, info.client_id, info.client_secret)).status).toBe(200)
    expect(errors.length).toBeGreaterThan(0)
    for (const error of errors) expect(String((error as Error).message)).not.toContain(info.client_secret)
  })
})

describe('listening for store events', () => {
  /** A MemoryServerStore that counts the subscriptions still active. */
  class SubscriptionCountingStore extends MemoryServerStore {
    active = 0

    override subscribe(listener: (event: StoreEvent) => void): () => void {
      this.active++
      const unsubscribe = super.subscribe(listener)
      let done = false
      return () => {
        if (done) return
        done = true
        this.active--
        unsubscribe()
      }
    }
  }

  it('registration adds one subscription, which close() ends and listen() starts again', async () => {
    const withStore = new SubscriptionCountingStore()
    const withoutStore = new SubscriptionCountingStore()
    const withRegistration = await createAuthorizationServer({
      clients: [SEED],
      registration: REGISTRATION,
      store: withStore,
    })
    const without = await createAuthorizationServer({ clients: [SEED], store: withoutStore })
    expect(withStore.active).toBe(withoutStore.active + 1)

    await Promise.all([withRegistration.close(), without.close()])
    expect(withStore.active).toBe(withoutStore.active)

    const listening = await withRegistration.listen({ port: 0 })
    const again = await without.listen({ port: 0 })
    expect(withStore.active).toBe(withoutStore.active + 1)
    await Promise.all([listening.close(), again.close(), withRegistration.close(), without.close()])
  })
})
