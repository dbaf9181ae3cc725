/**
 * `redisTokenStore` against a real redis-server: what it writes, the lock (SET NX PX with a random
 * holder, released by compare-and-delete), `waitForToken` (pub/sub, with the lock read again in
 * case a message is lost), a Redis that goes away and comes back, and client processes — here
 * clients, each with a connection of its own — making one token request between them.
 */
import diagnostics_channel from 'node:diagnostics_channel'
import { CLIENT_CHANNELS, clientSecretBasic, createTokenClient, type TokenSet } from '@oauth-m2m/client'
import { StoreUnavailableError } from '@oauth-m2m/core'
import { type RedisTokenStore, redisTokenStore } from '@oauth-m2m/redis'
import { type AuthorizationServer, createAuthorizationServer } from '@oauth-m2m/server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { useRedisServer } from './support/redis-suite.js'

const redis = useRedisServer()
let prefixes = 0

/**
 * `count` stores (each with its own connections, as processes have) on a key prefix of their own,
 * each connected (one command answered) before the test goes on, so that each test starts from
 * stores in use (a store closed while it connects is redis-connection.test.ts's subject).
 */
async function newStores(count: number): Promise<RedisTokenStore[]> {
  const keyPrefix = `ts${++prefixes}:`
  const made = Array.from({ length: count }, () => redisTokenStore({ url: redis.url, keyPrefix }))
  for (const store of made) redis.closeAfterAll(store)
  for (const store of made) await store.get('connected')
  return made
}

function tokenSet(accessToken: string): TokenSet {
  const issuedAt = Date.now()
  return {
    accessToken,
    tokenType: 'Bearer',
    issuedAt,
    expiresAt: issuedAt + 3_600_000,
    scope: 'read',
    response: { access_token: accessToken, token_type: 'Bearer', expires_in: 3600 },
  }
}

const KEY = 'http://127.0.0.1:1/token\nservice-a\nread'

describe('redisTokenStore: get, set, delete', () => {
  it('stores a TokenSet under a digest of the key, for its ttl', async () => {
    const [store] = await newStores(1)
    const token = tokenSet('at-1')
    await store!.set(KEY, token, 60_000)
    expect(await store!.get(KEY)).toEqual(token)
    const keys = await redis.raw.keys(`ts${prefixes}:*`)
    expect(keys).toHaveLength(1)
    expect(keys[0]).toMatch(new RegExp(`^ts${prefixes}:token:[A-Za-z0-9_-]{43}$`))
    const ttl = await redis.raw.pTTL(keys[0]!)
    expect(ttl).toBeGreaterThan(59_000)
    expect(ttl).toBeLessThanOrEqual(60_000)
    await store!.delete(KEY)
    expect(await store!.get(KEY)).toBeUndefined()
  })

  it('is shared by stores with the same prefix, and apart from other prefixes', async () => {
    const [a, b] = await newStores(2)
    const [other] = await newStores(1)
    await a!.set(KEY, tokenSet('at-shared'), 60_000)
    expect((await b!.get(KEY))?.accessToken).toBe('at-shared')
    expect(await other!.get(KEY)).toBeUndefined()
  })

  it('rejects what is not JSON with StoreUnavailableError, without the value in the message', async () => {
    const [store] = await newStores(1)
    await store!.set(KEY, tokenSet('at-x'), 60_000)
    const [key] = await redis.raw.keys(`ts${prefixes}:token:*`)
    await redis.raw.set(key!, 'secret-garbage{')
    const error = await store!.get(KEY).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(StoreUnavailableError)
    expect((error as Error).message).not.toContain('secret-garbage')
  })
})

describe('redisTokenStore: the lock', () => {
  it('is held by one at a time, until released', async () => {
    const [a, b] = await newStores(2)
    const taken = await Promise.all([a!.lock(KEY, 10_000), b!.lock(KEY, 10_000), a!.lock(KEY, 10_000)])
    expect(taken.filter((lock) => lock !== undefined)).toHaveLength(1)
    await taken.find((lock) => lock !== undefined)!.release()
    const again = await b!.lock(KEY, 10_000)
    expect(again).toBeDefined()
    await again!.release()
  })

  it('expires by itself (a holder that crashed), and a late release leaves the next holder alone', async () => {
    const [a, b] = await newStores(2)
    const crashed = await a!.lock(KEY, 1000)
    expect(crashed).toBeDefined()
    expect(await b!.lock(KEY, 10_000)).toBeUndefined()
    let next: Awaited<ReturnType<RedisTokenStore['lock']>>
    for (let i = 0; i < 200 && next === undefined; i++) {
      await new Promise((resolve) => setTimeout(resolve, 25))
      next = await b!.lock(KEY, 10_000)
    }
    expect(next).toBeDefined()
    await crashed!.release()
    expect(await a!.lock(KEY, 10_000)).toBeUndefined()
    await next!.release()
    expect(await a!.lock(KEY, 10_000)).toBeDefined()
  })
})

describe('redisTokenStore: waitForToken', () => {
  it('answers at once with what is stored when no one holds the lock', async () => {
    const [store] = await newStores(1)
    expect(await store!.waitForToken(KEY, 60_000)).toBeUndefined()
    await store!.set(KEY, tokenSet('at-now'), 60_000)
    expect((await store!.waitForToken(KEY, 60_000))?.accessToken).toBe('at-now')
  })

  it('wakes when the holder stores its token', async () => {
    const [holder, waiter] = await newStores(2)
    await holder!.set(KEY, tokenSet('at-old'), 60_000)
    const lock = await holder!.lock(KEY, 60_000)
    const waiting = waiter!.waitForToken(KEY, 60_000)
    await holder!.set(KEY, tokenSet('at-new'), 60_000)
    await lock!.release()
    expect((await waiting)?.accessToken).toBe('at-new')
  })

  it('wakes when the holder releases the lock without a token', async () => {
    const [holder, waiter] = await newStores(2)
    await holder!.set(KEY, tokenSet('at-old'), 60_000)
    const lock = await holder!.lock(KEY, 60_000)
    const waiting = waiter!.waitForToken(KEY, 60_000)
    await new Promise((resolve) => setTimeout(resolve, 50))
    await lock!.release()
    expect((await waiting)?.accessToken).toBe('at-old')
  })

  it('notices a lock that went without a message (read again), and one that expired', async () => {
    const [holder, waiter] = await newStores(2)
    await holder!.set(KEY, tokenSet('at-old'), 60_000)
    await holder!.lock(KEY, 60_000)
    const waiting = waiter!.waitForToken(KEY, 60_000)
    // Deleted behind the store's back: no message is published.
    await new Promise((resolve) => setTimeout(resolve, 50))
    for (const key of await redis.raw.keys(`ts${prefixes}:token-lock:*`)) await redis.raw.del(key)
    expect((await waiting)?.accessToken).toBe('at-old')

    await holder!.lock(KEY, 200)
    expect((await waiter!.waitForToken(KEY, 60_000))?.accessToken).toBe('at-old')
  })

  it('gives up after timeoutMs while the lock is held', async () => {
    const [holder, waiter] = await newStores(2)
    await holder!.set(KEY, tokenSet('at-old'), 60_000)
    await holder!.lock(KEY, 60_000)
    expect(await waiter!.waitForToken(KEY, 150)).toBeUndefined()
  })
})

describe('redisTokenStore with token clients', () => {
  let as: AuthorizationServer
  let tokenEndpoint: string
  let closeServer: () => Promise<void>
  const secret = 'fleet-secret-0123456789'

  beforeAll(async () => {
    as = await createAuthorizationServer({
      issuer: 'http://127.0.0.1',
      clients: [{ client_id: 'fleet', client_secret: secret, scope: 'read' }],
    })
    const listening = await as.listen({ port: 0, host: '127.0.0.1' })
    tokenEndpoint = `${listening.url}/token`
    closeServer = listening.close
  })
  afterAll(async () => {
    await closeServer()
    await as.close()
  })

  /** Token requests the clients of this process start, counted on the client's channel. */
  function countRequests(): { count: () => number; stop: () => void } {
    let n = 0
    const fn = () => {
      n++
    }
    diagnostics_channel.subscribe(CLIENT_CHANNELS.fetchStart, fn)
    return { count: () => n, stop: () => diagnostics_channel.unsubscribe(CLIENT_CHANNELS.fetchStart, fn) }
  }

  function clientsOn(fleet: RedisTokenStore[]) {
    return fleet.map((store) =>
      createTokenClient({
        tokenEndpoint,
        clientId: 'fleet',
        auth: clientSecretBasic(secret),
        scope: 'read',
        store,
      }),
    )
  }

  it('gives 4 clients × 50 callers one token request', async () => {
    const requests = countRequests()
    const clients = clientsOn(await newStores(4))
    try {
      const tokens = await Promise.all(clients.flatMap((c) => Array.from({ length: 50 }, () => c.getToken())))
      expect(new Set(tokens.map((t) => t.accessToken)).size).toBe(1)
      expect(requests.count()).toBe(1)
    } finally {
      requests.stop()
      await Promise.all(clients.map((c) => c.close()))
    }
  })

  it('lets each client fetch its own while Redis is away, and shares again once it is back', async () => {
    const fleet = await newStores(3)
    const requests = countRequests()
    await redis.stop()
    let clients = clientsOn(fleet)
    try {
      const tokens = await Promise.all(clients.map((c) => c.getToken()))
      expect(tokens.every((t) => t.tokenType === 'Bearer')).toBe(true)
      expect(requests.count()).toBe(3)
      await Promise.all(clients.map((c) => c.close()))

      await redis.start()
      await expect
        .poll(
          () =>
            fleet[0]!.get(KEY).then(
              () => true,
              () => false,
            ),
          { timeout: 10_000 },
        )
        .toBe(true)
      for (const store of fleet)
        await expect
          .poll(() =>
            store.get(KEY).then(
              () => true,
              () => false,
            ),
          )
          .toBe(true)
      clients = clientsOn(fleet)
      await Promise.all(clients.flatMap((c) => [c.getToken(), c.getToken()]))
      expect(requests.count()).toBe(4)
    } finally {
      requests.stop()
      await Promise.all(clients.map((c) => c.close()))
    }
  })
})
