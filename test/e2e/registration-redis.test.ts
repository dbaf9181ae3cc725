/**
 * Dynamic client registration on a real Redis (`redisServerStore`): a registration survives a
 * restart of the server (with the memory store it does not), and two instances on one Redis agree
 * on registrations, updates and deletions through Redis pub/sub, without waiting for a cache to age.
 */
import { randomBytes } from 'node:crypto'
import { encodeBasicCredentials } from '@oauth-m2m/core/internal'
import { type RedisServerStore, redisServerStore } from '@oauth-m2m/redis'
import {
  type AuthorizationServer,
  type AuthorizationServerConfig,
  createAuthorizationServer,
} from '@oauth-m2m/server'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  type RedisServer,
  startRedisServer,
  stopRedisServer,
} from '../../packages/redis/test/support/redis-server.js'

const IAT = 'initial-access-token-0123456789-abcdefghijklmnop'
const KEK = randomBytes(32).toString('base64url')
const BASE: AuthorizationServerConfig = {
  clients: [{ client_id: 'seed', client_secret: 'seed-secret', scope: 'read write' }],
  registration: { initialAccessTokens: [IAT], secretGraceSec: 0 },
}

let redis: RedisServer
let prefixes = 0
const stores: RedisServerStore[] = []
const servers: AuthorizationServer[] = []

beforeAll(async () => {
  redis = await startRedisServer()
})

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()))
  await Promise.all(stores.splice(0).map((store) => store.close()))
})

afterAll(async () => {
  await stopRedisServer(redis)
})

/** A store on a key prefix of this test's own. */
function storeOn(prefix: string): RedisServerStore {
  const store = redisServerStore({ url: redis.url, keyPrefix: prefix, keyEncryptionKey: KEK })
  stores.push(store)
  return store
}

async function start(config: AuthorizationServerConfig): Promise<string> {
  const server = await createAuthorizationServer(config)
  servers.push(server)
  return (await server.listen({ port: 0 })).url
}

interface Registered {
  client_id: string
  client_secret: string
  registration_access_token: string
  registration_client_uri: string
}

async function register(url: string): Promise<Registered> {
  const res = await fetch(`${url}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${IAT}` },
    body: JSON.stringify({ scope: 'read' }),
  })
  expect(res.status).toBe(201)
  return (await res.json()) as Registered
}

async function tokenStatus(url: string, clientId: string, secret: string): Promise<number> {
  const res = await fetch(`${url}/token`, {
    method: 'POST',
    headers: {
      authorization: encodeBasicCredentials(clientId, secret),
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: 'grant_type=client_credentials',
  })
  await res.body?.cancel()
  return res.status
}

describe('registrations on Redis', () => {
  it('survive a restart of the server; with the memory store they do not', async () => {
    const prefix = `reg${++prefixes}:`
    const before = await start({ ...BASE, store: storeOn(prefix) })
    const info = await register(before)
    await Promise.all(servers.splice(0).map((server) => server.close()))
    await Promise.all(stores.splice(0).map((store) => store.close()))

    const after = await start({ ...BASE, store: storeOn(prefix) })
    expect(await tokenStatus(after, info.client_id, info.client_secret)).toBe(200)

    const inMemory = await start(BASE)
    const lost = await register(inMemory)
    await Promise.all(servers.splice(0).map((server) => server.close()))
    const restarted = await start(BASE)
    expect(await tokenStatus(restarted, lost.client_id, lost.client_secret)).toBe(401)
  })

  it('two instances on one Redis agree at once on a registration, a rotated secret and a deletion', async () => {
    const prefix = `reg${++prefixes}:`
    // A clock that stands still: a cached copy never ages out, so only the event can tell B.
    const frozenMs = Date.now()
    const now = () => frozenMs
    const a = await start({ ...BASE, now, store: storeOn(prefix) })
    const b = await start({ ...BASE, now, store: storeOn(prefix) })
    const info = await register(a)
    expect(await tokenStatus(b, info.client_id, info.client_secret)).toBe(200)

    const rotated = await fetch(info.registration_client_uri, {
      method: 'PUT',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${info.registration_access_token}`,
      },
      body: JSON.stringify({ client_id: info.client_id, scope: 'read', rotate_client_secret: true }),
    })
    const newSecret = ((await rotated.json()) as Registered).client_secret
    // The event travels through Redis pub/sub: it may take a moment to arrive.
    await expect.poll(() => tokenStatus(b, info.client_id, info.client_secret), { timeout: 5000 }).toBe(401)
    expect(await tokenStatus(b, info.client_id, newSecret)).toBe(200)
    // A holds the client in its cache too before B deletes it.
    expect(await tokenStatus(a, info.client_id, newSecret)).toBe(200)

    const deleted = await fetch(info.registration_client_uri.replace(a, b), {
      method: 'DELETE',
      headers: { authorization: `Bearer ${info.registration_access_token}` },
    })
    expect(deleted.status).toBe(204)
    await expect.poll(() => tokenStatus(a, info.client_id, newSecret), { timeout: 5000 }).toBe(401)
  })
})
