/**
 * The verifier's stores on a real redis-server: `redisDpopReplayStore` (a DPoP proof accepted by
 * one instance of an API is refused by the others) and `redisIntrospectionCache` (one
 * introspection call per token for all instances).
 */

import { createHash, randomUUID } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { clientSecretBasic, StoreUnavailableError } from '@oauth-m2m/core'
import {
  type RedisDpopReplayStore,
  type RedisIntrospectionCache,
  redisDpopReplayStore,
  redisIntrospectionCache,
} from '@oauth-m2m/redis'
import { createVerifier, TemporarilyUnavailableError, type Verifier } from '@oauth-m2m/verifier'
import { base64url, calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { useRedisServer } from './support/redis-suite.js'

const ISSUER = 'https://as.example.test'
const AUDIENCE = 'https://api.example.test'
const URL_ = `${AUDIENCE}/things`

const redis = useRedisServer()
let prefixes = 0

/**
 * `count` stores on a key prefix of their own, each connected (one command answered) before the
 * test goes on, so that each test starts from stores in use (a store closed while it connects is
 * redis-connection.test.ts's subject).
 */
async function replayStores(count: number): Promise<RedisDpopReplayStore[]> {
  const keyPrefix = `vs${++prefixes}:`
  const made = Array.from({ length: count }, () => redisDpopReplayStore({ url: redis.url, keyPrefix }))
  for (const store of made) redis.closeAfterAll(store)
  for (const store of made) await store.recordIfNew('connected', 1)
  return made
}

async function introspectionCaches(count: number): Promise<RedisIntrospectionCache[]> {
  const keyPrefix = `vs${++prefixes}:`
  const made = Array.from({ length: count }, () => redisIntrospectionCache({ url: redis.url, keyPrefix }))
  for (const store of made) redis.closeAfterAll(store)
  for (const cache of made) await cache.get('connected')
  return made
}

describe('redisDpopReplayStore', () => {
  it('records a proof once across instances, with its ttl, under a digest of its key', async () => {
    const [a, b] = await replayStores(2)
    const key = `jkt-thumbprint.${randomUUID()}`
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a! : b!).recordIfNew(key, 60_000)),
    )
    expect(answers.filter(Boolean)).toHaveLength(1)
    const stored = `vs${prefixes}:dpop-proof:${createHash('sha256').update(key).digest('base64url')}`
    expect(await redis.raw.get(stored)).toBe('1')
    expect(await redis.raw.pTTL(stored)).toBeGreaterThan(59_000)
    expect(await a!.recordIfNew('another', 60_000)).toBe(true)
  })

  it('forgets a proof when it could be accepted no more', async () => {
    const [store] = await replayStores(1)
    expect(await store!.recordIfNew('short', 50)).toBe(true)
    await expect.poll(() => store!.recordIfNew('short', 50)).toBe(true)
  })

  it('makes two verifiers refuse a proof replayed from one to the other, and a 503 while Redis is away', async () => {
    const signer = await generateKeyPair('ES256')
    const dpopKey = await generateKeyPair('ES256', { extractable: true })
    const dpopJwk = await exportJWK(dpopKey.publicKey)
    const jkt = await calculateJwkThumbprint(dpopJwk, 'sha256')
    const now = Math.floor(Date.now() / 1000)
    const token = await new SignJWT({
      client_id: 'service-a',
      scope: 'read',
      cnf: { jkt },
      jti: randomUUID(),
    })
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'k1' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject('service-a')
      .setIssuedAt(now)
      .setExpirationTime(now + 600)
      .sign(signer.privateKey)
    const proof = async () => {
      const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(token)))
      return new SignJWT({
        jti: randomUUID(),
        htm: 'GET',
        htu: URL_,
        iat: now,
        ath: base64url.encode(digest),
      })
        .setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk: dpopJwk })
        .sign(dpopKey.privateKey)
    }
    const publicJwk = { ...(await exportJWK(signer.publicKey)), kid: 'k1', alg: 'ES256' }
    const [storeA, storeB] = await replayStores(2)
    const [a, b] = [storeA, storeB].map((replayStore) =>
      createVerifier({
        issuer: ISSUER,
        audience: AUDIENCE,
        jwks: { keys: [publicJwk] },
        dpop: { replayStore },
      }),
    )
    const dpop = { proof: await proof(), method: 'GET', url: URL_ }
    await expect(a!.verify(token, { dpop })).resolves.toMatchObject({ confirmation: { jkt } })
    await expect(b!.verify(token, { dpop })).rejects.toThrow(/used before/)

    await redis.stop()
    try {
      const fresh = { proof: await proof(), method: 'GET', url: URL_ }
      await expect(b!.verify(token, { dpop: fresh })).rejects.toBeInstanceOf(TemporarilyUnavailableError)
      await expect(storeB!.recordIfNew('x', 1000)).rejects.toBeInstanceOf(StoreUnavailableError)
    } finally {
      await redis.start()
      await Promise.all([a!.close(), b!.close()])
    }
  })
})

describe('redisIntrospectionCache', () => {
  let endpoint: Server
  let endpointUrl: string
  let calls = 0

  beforeAll(async () => {
    endpoint = createServer((_req, res) => {
      calls++
      const iat = Math.floor(Date.now() / 1000)
      res.setHeader('content-type', 'application/json')
      res.end(
        JSON.stringify({
          active: true,
          iss: ISSUER,
          aud: AUDIENCE,
          client_id: 'service-a',
          scope: 'read',
          iat,
          exp: iat + 600,
        }),
      )
    })
    await new Promise<void>((resolve) => endpoint.listen(0, '127.0.0.1', resolve))
    endpointUrl = `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}/introspect`
  })
  afterAll(() => new Promise<void>((resolve) => endpoint.close(() => resolve())))

  let unusedKey: Record<string, unknown>
  beforeAll(async () => {
    const { publicKey } = await generateKeyPair('ES256')
    unusedKey = { ...(await exportJWK(publicKey)), kid: 'unused', alg: 'ES256' }
  })

  function verifiers(caches: RedisIntrospectionCache[]): Verifier[] {
    return caches.map((cache) =>
      createVerifier({
        issuer: ISSUER,
        audience: AUDIENCE,
        jwks: { keys: [unusedKey] },
        introspection: {
          endpoint: endpointUrl,
          clientId: 'api',
          auth: clientSecretBasic('api-secret'),
          cache,
        },
      }),
    )
  }

  it('gives three verifiers one introspection call per token, and keeps the token out of Redis', async () => {
    calls = 0
    const caches = await introspectionCaches(3)
    const instances = verifiers(caches)
    const opaque = `opaque-${randomUUID()}`
    try {
      const [first, ...others] = instances
      const principal = await first!.verify(opaque)
      await expect.poll(() => redis.raw.keys(`vs${prefixes}:introspection:*`).then((k) => k.length)).toBe(1)
      for (const verifier of others) await expect(verifier.verify(opaque)).resolves.toEqual(principal)
      expect(calls).toBe(1)
      const [key] = await redis.raw.keys(`vs${prefixes}:introspection:*`)
      expect(key).not.toContain(opaque)
      expect(await redis.raw.get(key!)).not.toContain(opaque)
      expect(await redis.raw.pTTL(key!)).toBeGreaterThan(59_000)
    } finally {
      await Promise.all(instances.map((v) => v.close()))
    }
  })

  it('round-trips an entry, and misses what is not there', async () => {
    const [cache] = await introspectionCaches(1)
    const entry = { answer: { active: false }, fetchedAtMs: 1_700_000_000_000 }
    await cache!.set('digest', entry, 5000)
    expect(await cache!.get('digest')).toEqual(entry)
    expect(await cache!.get('other')).toBeUndefined()
  })
})
