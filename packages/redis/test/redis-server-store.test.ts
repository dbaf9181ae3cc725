import { randomBytes } from 'node:crypto'
import { ConfigurationError, StoreUnavailableError } from '@oauth-m2m/core'
import {
  type RedisServerStore,
  type RedisServerStoreOptions,
  redisServerStore,
  SigningKeysUnreadableError,
} from '@oauth-m2m/redis'
import type { StoredClient, StoredSigningKeys, StoreEvent } from '@oauth-m2m/server'
import { createClient } from 'redis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { describeSharedStateContract } from '../../server/test/server-store-contract.js'
import { useRedisServer } from './support/redis-suite.js'

const redis = useRedisServer()
const kek = randomBytes(32).toString('base64url')
let prefixes = 0

/** A store on a key prefix of its own, so that every test starts empty. */
function newStore(options: Partial<RedisServerStoreOptions> = {}): RedisServerStore & { prefix: string } {
  const prefix = `t${++prefixes}:`
  const store = redisServerStore({ url: redis.url, keyPrefix: prefix, keyEncryptionKey: kek, ...options })
  redis.closeAfterAll(store)
  return Object.assign(store, { prefix: options.keyPrefix ?? prefix })
}

function keySet(version: number, kid: string): StoredSigningKeys {
  const jwk = { kty: 'OKP', crv: 'Ed25519', x: `public-${kid}`, d: `PRIVATE-${kid}`, kid, alg: 'EdDSA' }
  return {
    version,
    current: { jwk, activatedAtMs: 1_700_000_000_000 },
    next: { jwk: { ...jwk, kid: `${kid}-next`, d: `PRIVATE-${kid}-next` } },
    retired: [
      { jwk: { ...jwk, kid: `${kid}-old`, d: `PRIVATE-${kid}-old` }, retainUntilMs: 1_700_000_100_000 },
    ],
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function waitUntil(done: () => boolean | Promise<boolean>, attempts = 200): Promise<void> {
  for (let i = 0; i < attempts && !(await done()); i++) await sleep(25)
  expect(await done()).toBe(true)
}

/**
 * Publishes with `publish` until `heard()`: a subscription is made in the background, so the
 * first messages may go out before it is live.
 */
function publishUntilHeard(publish: () => Promise<unknown>, heard: () => boolean): Promise<void> {
  return waitUntil(async () => {
    await publish()
    await sleep(20)
    return heard()
  })
}

describeSharedStateContract('redisServerStore', async () => {
  const store = newStore()
  return { store, close: () => store.close() }
})

describe('redisServerStore: tokens and one-time values', () => {
  it('keeps an opaque token until it is deleted, as an equal copy', async () => {
    const store = newStore()
    const claims = { jti: 'j', scope: 'a b', aud: ['x', 'y'], extra: { nested: true } }
    await store.saveOpaqueToken('h', claims, Date.now() + 60_000)
    expect(await store.findOpaqueToken('h')).toEqual(claims)
    expect(await store.findOpaqueToken('other')).toBeUndefined()
    await store.deleteOpaqueToken('h')
    expect(await store.findOpaqueToken('h')).toBeUndefined()
  })

  it('forgets an opaque token when it expires', async () => {
    const store = newStore()
    await store.saveOpaqueToken('h', { jti: 'j' }, Date.now() + 100)
    expect(await store.findOpaqueToken('h')).toEqual({ jti: 'j' })
    await waitUntil(async () => (await store.findOpaqueToken('h')) === undefined)
  })

  it('remembers a revoked jti until the token would have expired', async () => {
    const store = newStore()
    expect(await store.revokeJti('j', Date.now() + 150)).toBeUndefined()
    expect(await store.isJtiRevoked('j')).toBe(true)
    expect(await store.isJtiRevoked('k')).toBe(false)
    await waitUntil(async () => !(await store.isJtiRevoked('j')))
  })

  it('spends a one-time value once per use', async () => {
    const store = newStore()
    const expiresAtMs = Date.now() + 60_000
    expect(await store.useOnce('client-assertion', 'k1', expiresAtMs)).toBe(true)
    expect(await store.useOnce('client-assertion', 'k1', expiresAtMs)).toBe(false)
    expect(await store.useOnce('client-assertion', 'k2', expiresAtMs)).toBe(true)
    expect(await store.useOnce('dpop-proof', 'k1', expiresAtMs)).toBe(true)
    expect(await store.useOnce('dpop-proof', 'k1', expiresAtMs)).toBe(false)
  })

  it('lets exactly one of concurrent spends of one value through', async () => {
    const store = newStore()
    const results = await Promise.all(
      Array.from({ length: 20 }, () => store.useOnce('client-assertion', 'same', Date.now() + 60_000)),
    )
    expect(results.filter((result) => result === true)).toHaveLength(1)
  })

  it('keeps a one-time value until its expiry and no longer', async () => {
    const store = newStore()
    expect(await store.useOnce('dpop-proof', 'k', Date.now() + 150)).toBe(true)
    expect(await store.useOnce('dpop-proof', 'k', Date.now() + 150)).toBe(false)
    await waitUntil(async () => (await redis.raw.exists(`${store.prefix}once:dpop-proof:k`)) === 0)
    expect(await store.useOnce('dpop-proof', 'k', Date.now() + 60_000)).toBe(true)
  })

  it('keeps a long one-time key as a fixed-size digest', async () => {
    const store = newStore()
    const long = 'x'.repeat(1000)
    expect(await store.useOnce('client-assertion', long, Date.now() + 60_000)).toBe(true)
    expect(await store.useOnce('client-assertion', long, Date.now() + 60_000)).toBe(false)
    const keys = await redis.raw.keys(`${store.prefix}once:*`)
    expect(keys).toHaveLength(1)
    expect(keys[0]?.length).toBe(`${store.prefix}once:client-assertion:`.length + 43)
  })

  it('refuses an unknown use', async () => {
    await expect(newStore().useOnce('toString' as never, 'k', Date.now() + 1000)).rejects.toThrow(TypeError)
  })

  it('reports an opaque token Redis holds in another shape as unavailable, without its value', async () => {
    const store = newStore()
    await redis.raw.set(`${store.prefix}opaque:h`, 'not json SECRET-VALUE')
    const error = await store.findOpaqueToken('h').catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(StoreUnavailableError)
    expect(String((error as Error).message)).not.toContain('SECRET-VALUE')
  })
})

describe('redisServerStore: registrations', () => {
  it('refuses a new registration beyond maxRegisteredClients, and takes it after a deletion', async () => {
    const store = newStore({ maxRegisteredClients: 2 })
    expect(await store.saveClient({ client_id: 'a' })).toBeUndefined()
    expect(await store.saveClient({ client_id: 'b' })).toBeUndefined()
    expect(await store.saveClient({ client_id: 'c' })).toMatchObject({ fullUntilMs: expect.any(Number) })
    expect(await store.findClient('c')).toBeUndefined()
    // Replacing an existing registration needs no room.
    expect(await store.saveClient({ client_id: 'a', scope: 'x' })).toBeUndefined()
    expect(await store.deleteClient('b')).toBe(true)
    expect(await store.saveClient({ client_id: 'c' })).toBeUndefined()
  })

  it('holds the bound under concurrent registrations from several instances', async () => {
    const first = newStore({ maxRegisteredClients: 5 })
    const second = newStore({ keyPrefix: first.prefix, maxRegisteredClients: 5 })
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? first : second).saveClient({ client_id: `c${i}` })),
    )
    expect(results.filter((result) => result === undefined)).toHaveLength(5)
    expect(await redis.raw.sCard(`${first.prefix}clients`)).toBe(5)
  })

  it('shares registrations between instances on one prefix, and not across prefixes', async () => {
    const a = newStore()
    const b = newStore({ keyPrefix: a.prefix })
    const elsewhere = newStore()
    await a.saveClient({ client_id: 'shared', scope: 's' })
    expect(await b.findClient('shared')).toEqual({ client_id: 'shared', scope: 's' })
    expect(await elsewhere.findClient('shared')).toBeUndefined()
  })
})

describe('redisServerStore: signing keys encrypted at rest', () => {
  it('writes no private key member and no private value to Redis', async () => {
    const store = newStore()
    expect(await store.saveSigningKeys(keySet(1, 'k1'))).toBe(true)
    const stored = await redis.raw.hGetAll(`${store.prefix}signing-keys`)
    expect(Object.keys(stored).sort()).toEqual(['keys', 'version'])
    expect(stored.version).toBe('1')
    const everything = JSON.stringify(stored)
    expect(everything).not.toContain('PRIVATE')
    expect(everything).not.toMatch(/"d"/)
    const jwe = JSON.parse(stored.keys as string) as Record<string, string>
    expect(Object.keys(jwe).sort()).toEqual(['aad', 'ciphertext', 'iv', 'protected', 'tag'])
    expect(JSON.parse(Buffer.from(jwe.protected as string, 'base64url').toString())).toMatchObject({
      alg: 'dir',
      enc: 'A256GCM',
    })
    // And reads them back whole.
    expect(await store.loadSigningKeys()).toEqual(keySet(1, 'k1'))
  })

  it('refuses altered ciphertext with a typed error', async () => {
    const store = newStore()
    await store.saveSigningKeys(keySet(1, 'k1'))
    const key = `${store.prefix}signing-keys`
    const jwe = JSON.parse((await redis.raw.hGet(key, 'keys')) as string) as Record<string, string>
    const bytes = Buffer.from(jwe.ciphertext as string, 'base64url')
    bytes[0] = (bytes[0] as number) ^ 1
    await redis.raw.hSet(key, 'keys', JSON.stringify({ ...jwe, ciphertext: bytes.toString('base64url') }))
    const error = await store.loadSigningKeys().catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(SigningKeysUnreadableError)
    expect(error).toMatchObject({ code: 'ERR_STORE_UNAVAILABLE' })
  })

  it('refuses keys encrypted with another key-encryption key', async () => {
    const store = newStore()
    await store.saveSigningKeys(keySet(1, 'k1'))
    const other = newStore({ keyPrefix: store.prefix, keyEncryptionKey: randomBytes(32) })
    const error = await other.loadSigningKeys().catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(SigningKeysUnreadableError)
    expect((error as Error).message).toContain('different keyEncryptionKey')
    // Nor may it overwrite them without the stored version: the compare-and-set still holds.
    expect(await other.saveSigningKeys(keySet(1, 'mine'))).toBe(false)
  })

  it('refuses a set moved to another prefix or given another version', async () => {
    const store = newStore()
    await store.saveSigningKeys(keySet(1, 'k1'))
    const stored = await redis.raw.hGetAll(`${store.prefix}signing-keys`)
    const elsewhere = newStore()
    await redis.raw.hSet(`${elsewhere.prefix}signing-keys`, stored)
    await expect(elsewhere.loadSigningKeys()).rejects.toBeInstanceOf(SigningKeysUnreadableError)
    await redis.raw.hSet(`${store.prefix}signing-keys`, 'version', '7')
    await expect(store.loadSigningKeys()).rejects.toBeInstanceOf(SigningKeysUnreadableError)
  })

  it('needs a key-encryption key to save or read signing keys, and says so', async () => {
    const withKey = newStore()
    const without = newStore({ keyPrefix: withKey.prefix, keyEncryptionKey: undefined })
    expect(await without.loadSigningKeys()).toBeUndefined()
    await expect(without.saveSigningKeys(keySet(1, 'k1'))).rejects.toThrow(ConfigurationError)
    await expect(without.saveSigningKeys(keySet(1, 'k1'))).rejects.toThrow(/keyEncryptionKey is required/)
    await withKey.saveSigningKeys(keySet(1, 'k1'))
    await expect(without.loadSigningKeys()).rejects.toThrow(ConfigurationError)
  })

  it('takes a key-encryption key of exactly 32 bytes, and never repeats a wrong one', () => {
    expect(() => newStore({ keyEncryptionKey: randomBytes(32) })).not.toThrow()
    for (const wrong of [
      randomBytes(16),
      'short-secret-value',
      `${randomBytes(32).toString('base64url')}A`,
    ]) {
      let error: unknown
      try {
        newStore({ keyEncryptionKey: wrong })
      } catch (caught) {
        error = caught
      }
      expect(error).toBeInstanceOf(ConfigurationError)
      if (typeof wrong === 'string') expect((error as Error).message).not.toContain(wrong)
    }
  })
})

describe('redisServerStore: registrations and opaque tokens behind an integrity tag', () => {
  it('refuses a client or an opaque token written without the key-encryption key', async () => {
    const store = newStore()
    // What someone with write access to Redis, but not the key, would add.
    await redis.raw.set(
      `${store.prefix}client:intruder`,
      JSON.stringify({ client_id: 'intruder', secret_hash: 'h' }),
    )
    await redis.raw.set(`${store.prefix}opaque:h`, JSON.stringify({ client_id: 'intruder', scope: 'admin' }))
    await expect(store.findClient('intruder')).rejects.toBeInstanceOf(StoreUnavailableError)
    await expect(store.findOpaqueToken('h')).rejects.toBeInstanceOf(StoreUnavailableError)
  })

  it('refuses a changed or moved value', async () => {
    const store = newStore()
    await store.saveClient({ client_id: 'a', scope: 'read' })
    await store.saveClient({ client_id: 'b', scope: 'read' })
    const stored = (await redis.raw.get(`${store.prefix}client:a`)) as string
    await redis.raw.set(`${store.prefix}client:a`, stored.replace('"read"', '"admin"'))
    await expect(store.findClient('a')).rejects.toBeInstanceOf(StoreUnavailableError)
    // Moved under another client_id (the id inside differs too): refused.
    await redis.raw.set(`${store.prefix}client:b`, stored)
    await expect(store.findClient('b')).rejects.toBeInstanceOf(StoreUnavailableError)
    await store.saveOpaqueToken('h1', { scope: 'read' }, Date.now() + 60_000)
    await redis.raw.set(
      `${store.prefix}opaque:h2`,
      (await redis.raw.get(`${store.prefix}opaque:h1`)) as string,
    )
    await expect(store.findOpaqueToken('h2')).rejects.toBeInstanceOf(StoreUnavailableError)
    expect(await store.findOpaqueToken('h1')).toEqual({ scope: 'read' })
  })

  it('stores plain JSON without a key-encryption key', async () => {
    const store = newStore({ keyEncryptionKey: undefined })
    await store.saveClient({ client_id: 'a' })
    expect(await redis.raw.get(`${store.prefix}client:a`)).toBe('{"client_id":"a"}')
    expect(await store.findClient('a')).toEqual({ client_id: 'a' })
  })
})

describe('redisServerStore: changing the key-encryption key', () => {
  const oldKey = kek
  const newKey = randomBytes(32).toString('base64url')

  /** A store on `prefix` (a new one when not given) with `key` and those fallbacks. */
  function storeWith(key: string, fallbacks: string[], prefix?: string) {
    return newStore({
      keyEncryptionKey: key,
      keyEncryptionKeyFallbacks: fallbacks,
      ...(prefix === undefined ? {} : { keyPrefix: prefix }),
    })
  }

  it('reads signing keys under a fallback key and rewrites them under the current one', async () => {
    const before = storeWith(oldKey, [])
    await before.saveSigningKeys(keySet(1, 'k1'))
    const stored = await redis.raw.hGet(`${before.prefix}signing-keys`, 'keys')

    const rotating = storeWith(newKey, [oldKey], before.prefix)
    expect(await rotating.loadSigningKeys()).toEqual(keySet(1, 'k1'))

    expect(await redis.raw.hGet(`${before.prefix}signing-keys`, 'keys')).not.toBe(stored)
    expect(await redis.raw.hGet(`${before.prefix}signing-keys`, 'version')).toBe('1')
    expect(await storeWith(newKey, [], before.prefix).loadSigningKeys()).toEqual(keySet(1, 'k1'))
    await expect(before.loadSigningKeys()).rejects.toBeInstanceOf(SigningKeysUnreadableError)
  })

  it('reads registrations, opaque tokens and events under a fallback key; rewrites registrations when read', async () => {
    const before = storeWith(oldKey, [])
    await before.saveClient({ client_id: 'c1', scope: 'a' })
    const claims = { client_id: 'c1', scope: 'a', exp: 1, iat: 0, aud: 'x', jti: 'j', iss: 'i' }
    await before.saveOpaqueToken('h', claims, Date.now() + 60_000)
    const rotating = storeWith(newKey, [oldKey], before.prefix)

    expect(await rotating.findOpaqueToken('h')).toEqual(claims)
    expect(await rotating.findClient('c1')).toEqual({ client_id: 'c1', scope: 'a' })
    // Rewritten: an instance that has only the new key reads it now, and an update by
    // compare-and-set (which compares with what the current key seals) goes through.
    const onlyNew = storeWith(newKey, [], before.prefix)
    const read = (await onlyNew.findClient('c1')) as StoredClient
    expect(await rotating.replaceClient(read, { ...read, scope: 'b' })).toBe(true)
    await expect(before.findClient('c1')).rejects.toBeInstanceOf(StoreUnavailableError)

    const seen: StoreEvent[] = []
    const stop = rotating.subscribe((event) => seen.push(event))
    await publishUntilHeard(
      () => before.publish({ type: 'client', clientId: 'c1' }),
      () => seen.length > 0,
    )
    expect(seen[0]).toEqual({ type: 'client', clientId: 'c1' })
    stop()
  })

  it('lets instances that write with the old key read what one with the new key wrote (the first step)', async () => {
    const first = storeWith(oldKey, [newKey])
    const second = storeWith(newKey, [oldKey], first.prefix)
    await second.saveClient({ client_id: 'c1' })
    await second.saveSigningKeys(keySet(1, 'k1'))
    expect(await first.findClient('c1')).toEqual({ client_id: 'c1' })
    expect(await first.loadSigningKeys()).toEqual(keySet(1, 'k1'))
  })

  it('rekey() rewrites every registration and the key set under the current key, once', async () => {
    const before = storeWith(oldKey, [])
    for (const id of ['a', 'b', 'c']) await before.saveClient({ client_id: id })
    await before.saveSigningKeys(keySet(1, 'k1'))
    const rotating = storeWith(newKey, [oldKey], before.prefix)
    // One registration changed by the new key already: not counted.
    await rotating.saveClient({ client_id: 'b', scope: 'new' })

    expect(await rotating.rekey()).toEqual({ clients: 2, signingKeys: true })
    expect(await rotating.rekey()).toEqual({ clients: 0, signingKeys: false })

    const onlyNew = storeWith(newKey, [], before.prefix)
    for (const id of ['a', 'b', 'c']) expect((await onlyNew.findClient(id))?.client_id).toBe(id)
    expect(await onlyNew.loadSigningKeys()).toEqual(keySet(1, 'k1'))
  })

  it('refuses fallbacks without a key, the key itself as a fallback, and a malformed fallback (not echoed)', () => {
    const make = (options: Partial<RedisServerStoreOptions>) => () =>
      redisServerStore({ url: redis.url, ...options })
    expect(make({ keyEncryptionKeyFallbacks: [oldKey] })).toThrow(/needs a keyEncryptionKey/)
    expect(make({ keyEncryptionKey: oldKey, keyEncryptionKeyFallbacks: [oldKey] })).toThrow(
      /holds the keyEncryptionKey itself/,
    )
    const malformed = 'NOT-A-KEY-but-secret-looking-value'
    let error: unknown
    try {
      make({ keyEncryptionKey: oldKey, keyEncryptionKeyFallbacks: [malformed] })()
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(ConfigurationError)
    expect((error as Error).message).toMatch(/keyEncryptionKeyFallbacks\[0\] must be 32 bytes/)
    expect(JSON.stringify(error) + String(error)).not.toContain(malformed)
  })

  it('rekey() needs a key-encryption key', async () => {
    await expect(newStore({ keyEncryptionKey: undefined }).rekey()).rejects.toBeInstanceOf(ConfigurationError)
  })
})

describe('redisServerStore: nothing grows without bound', () => {
  it('gives every key a TTL but the bounded registrations and the one key set', async () => {
    const store = newStore()
    const inAMinute = Date.now() + 60_000
    await store.saveOpaqueToken('h', { jti: 'j' }, inAMinute)
    await store.revokeJti('j', inAMinute)
    await store.useOnce('client-assertion', 'a', inAMinute)
    await store.useOnce('dpop-proof', 'p', inAMinute)
    await store.countFailure('f', 60_000)
    await store.saveClient({ client_id: 'c' })
    await store.saveSigningKeys(keySet(1, 'k1'))
    const ttls: Record<string, number> = {}
    for (const key of await redis.raw.keys(`${store.prefix}*`)) {
      ttls[key.slice(store.prefix.length)] = await redis.raw.pTTL(key)
    }
    const withoutTtl = Object.keys(ttls)
      .filter((key) => (ttls[key] as number) < 0)
      .sort()
    expect(withoutTtl).toEqual(['client:c', 'clients', 'signing-keys'])
    for (const key of [
      'opaque:h',
      'revoked:j',
      'once:client-assertion:a',
      'once:dpop-proof:p',
      'failures:f',
    ]) {
      expect(ttls[key], key).toBeGreaterThan(50_000)
      expect(ttls[key], key).toBeLessThanOrEqual(60_000)
    }
  })
})

describe('redisServerStore: events', () => {
  /**
   * Two instances on one prefix, `b` listening (its subscription live) and what it heard since
   * then in `seen`.
   */
  async function listeningPair(options: Partial<RedisServerStoreOptions> = {}) {
    const a = newStore(options)
    const b = newStore({ ...options, keyPrefix: a.prefix })
    const seen: StoreEvent[] = []
    const stop = b.subscribe((event) => seen.push(event))
    await publishUntilHeard(
      () => a.publish({ type: 'signing-keys' }),
      () => seen.length > 0,
    )
    seen.length = 0
    return { a, seen, stop }
  }

  it('delivers events between instances on one prefix, and ignores malformed messages', async () => {
    // Without a key-encryption key, events travel as plain JSON.
    const { a, seen, stop } = await listeningPair({ keyEncryptionKey: undefined })
    const channel = `${a.prefix}events`
    for (const junk of [
      'not json',
      '[]',
      '{"type":"client"}',
      '{"type":"auth-lock","key":"k","untilMs":"x"}',
    ]) {
      await redis.raw.publish(channel, junk)
    }
    await redis.raw.publish(channel, JSON.stringify({ type: 'client', clientId: 'c1', extra: 'dropped' }))
    await waitUntil(() => seen.length > 0)
    expect(seen).toEqual([{ type: 'client', clientId: 'c1' }])
    stop()
  })

  it('with a key-encryption key, delivers only events sealed with it on this channel', async () => {
    const { a, seen, stop } = await listeningPair()
    const elsewhere = newStore()
    const channel = `${a.prefix}events`
    // What someone who can publish on Redis, but has not the key, can send: a well-formed event,
    // one under a tag of their own, and one sealed for another channel (copied from it).
    const lockOut = { type: 'auth-lock', key: 'k', untilMs: Date.now() + 3_600_000 }
    await redis.raw.publish(channel, JSON.stringify(lockOut))
    await redis.raw.publish(channel, `${'A'.repeat(43)}.${JSON.stringify(lockOut)}`)
    const copied: string[] = []
    const listener = await redis.raw
      .duplicate()
      .on('error', () => {})
      .connect()
    await listener.subscribe(`${elsewhere.prefix}events`, (message) => {
      copied.push(message)
    })
    await publishUntilHeard(
      () => elsewhere.publish(lockOut as StoreEvent),
      () => copied.length > 0,
    )
    await listener.close()
    // On the wire, an event is its tag, a dot, then its JSON.
    expect(copied[0]).toMatch(/^[A-Za-z0-9_-]{43}\.\{"type":"auth-lock"/)
    await redis.raw.publish(channel, copied[0] as string)
    // Then an event of an instance with the key, which arrives after the others.
    await a.publish({ type: 'client', clientId: 'c1' })
    await waitUntil(() => seen.length > 0)
    expect(seen).toEqual([{ type: 'client', clientId: 'c1' }])
    stop()
  })
})

describe('redisServerStore: a client the application owns', () => {
  it('uses it, and close() leaves it open', async () => {
    const client = createClient({ url: redis.url })
    client.on('error', () => {})
    await client.connect()
    try {
      const store = redisServerStore({ client, keyPrefix: `owned${++prefixes}:`, keyEncryptionKey: kek })
      await store.saveClient({ client_id: 'c' })
      expect(await store.findClient('c')).toEqual({ client_id: 'c' })
      const seen: StoreEvent[] = []
      store.subscribe((event) => seen.push(event))
      await publishUntilHeard(
        () => store.publish({ type: 'signing-keys' }),
        () => seen.length > 0,
      )
      await store.close()
      expect(client.isOpen).toBe(true)
      expect(await client.ping()).toBe('PONG')
      await expect(store.ping()).rejects.toBeInstanceOf(StoreUnavailableError)
    } finally {
      client.destroy()
    }
  })

  it('takes exactly one of url and client', () => {
    expect(() => redisServerStore({ keyEncryptionKey: kek })).toThrow(ConfigurationError)
    expect(() =>
      redisServerStore({ url: 'redis://user:PASSWORD@127.0.0.1:1', client: redis.raw as never }),
    ).toThrow(ConfigurationError)
  })

  it('refuses a URL that is not redis:// without repeating it', () => {
    let error: unknown
    try {
      redisServerStore({ url: 'http://user:PASSWORD@host/' })
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(ConfigurationError)
    expect(JSON.stringify(error)).not.toContain('PASSWORD')
    expect((error as Error).cause).toBeUndefined()
  })
})

describe('redisServerStore: when Redis goes away', () => {
  const unhandled: unknown[] = []
  const onUnhandled = (reason: unknown) => unhandled.push(reason)
  beforeAll(() => {
    process.on('unhandledRejection', onUnhandled)
  })
  afterEach(async () => {
    await redis.start()
  })
  afterAll(() => {
    process.off('unhandledRejection', onUnhandled)
  })

  it('rejects every call with StoreUnavailableError naming no key or value, then recovers by itself', async () => {
    const store = newStore({ commandTimeoutMs: 300 })
    const seen: StoreEvent[] = []
    store.subscribe((event) => seen.push(event))
    await store.saveClient({ client_id: 'kept' })
    await publishUntilHeard(
      () => store.publish({ type: 'signing-keys' }),
      () => seen.length > 0,
    )

    await redis.stop()
    const inAMinute = Date.now() + 60_000
    const calls: [string, () => Promise<unknown>][] = [
      ['saveOpaqueToken', () => store.saveOpaqueToken('HASH-SECRET', { jti: 'JTI-SECRET' }, inAMinute)],
      ['findOpaqueToken', () => store.findOpaqueToken('HASH-SECRET')],
      ['deleteOpaqueToken', () => store.deleteOpaqueToken('HASH-SECRET')],
      ['revokeJti', () => store.revokeJti('JTI-SECRET', inAMinute)],
      ['isJtiRevoked', () => store.isJtiRevoked('JTI-SECRET')],
      ['useOnce', () => store.useOnce('client-assertion', 'ONCE-SECRET', inAMinute)],
      ['saveClient', () => store.saveClient({ client_id: 'CLIENT-SECRET' })],
      ['findClient', () => store.findClient('kept')],
      ['deleteClient', () => store.deleteClient('kept')],
      ['loadSigningKeys', () => store.loadSigningKeys()],
      ['saveSigningKeys', () => store.saveSigningKeys(keySet(1, 'KID-SECRET'))],
      ['countFailure', () => store.countFailure('FAILURE-SECRET', 60_000)],
      ['publish', () => store.publish({ type: 'client', clientId: 'CLIENT-SECRET' })],
      ['ping', () => store.ping()],
    ]
    for (const [name, call] of calls) {
      const error = await call().then(
        () => undefined,
        (caught: unknown) => caught,
      )
      expect(error, name).toBeInstanceOf(StoreUnavailableError)
      expect((error as Error).message, name).not.toMatch(/SECRET|kept/)
    }

    await redis.start()
    await waitUntil(async () =>
      store.ping().then(
        () => true,
        () => false,
      ),
    )
    // Redis came back empty (no persistence): the store works on it again, events included.
    expect(await store.saveClient({ client_id: 'after' })).toBeUndefined()
    expect(await store.findClient('after')).toEqual({ client_id: 'after' })
    seen.length = 0
    await publishUntilHeard(
      () => store.publish({ type: 'client', clientId: 'after' }),
      () => seen.length > 0,
    )
    expect(seen[0]).toEqual({ type: 'client', clientId: 'after' })
    expect(unhandled).toEqual([])
  })

  it('rejects after commandTimeoutMs with a client that queues commands while offline', async () => {
    // The application's client keeps its offline queue: a command waits for a reconnection that
    // does not come, and the store's time limit ends the wait.
    const client = createClient({ url: redis.url, socket: { reconnectStrategy: 50 } })
    client.on('error', () => {})
    await client.connect()
    try {
      const store = redisServerStore({ client, keyPrefix: `queued${++prefixes}:`, commandTimeoutMs: 200 })
      await store.ping()
      await redis.stop()
      await expect(store.findClient('c')).rejects.toBeInstanceOf(StoreUnavailableError)
      await expect(store.isJtiRevoked('j')).rejects.toBeInstanceOf(StoreUnavailableError)
      await redis.start()
      await waitUntil(async () =>
        store.ping().then(
          () => true,
          () => false,
        ),
      )
      expect(await store.findClient('c')).toBeUndefined()
      await store.close()
    } finally {
      client.destroy()
    }
    expect(unhandled).toEqual([])
  })

  it('starts while Redis is away and works once it is there', async () => {
    await redis.stop()
    const store = newStore()
    await expect(store.ping()).rejects.toBeInstanceOf(StoreUnavailableError)
    await redis.start()
    await waitUntil(async () =>
      store.ping().then(
        () => true,
        () => false,
      ),
    )
    expect(await store.useOnce('dpop-proof', 'k', Date.now() + 60_000)).toBe(true)
    expect(unhandled).toEqual([])
  })
})
