/**
 * Signing keys on a shared store: every instance publishes the same keys, a token of one verifies
 * with the JWKS of any other, a rotation anywhere (on demand or scheduled) is picked up by all,
 * and the key that becomes current is the one every instance already published.
 */
import { generateKeyPairSync } from 'node:crypto'
import { ConfigurationError } from '@oauth-m2m/core'
import { MemoryServerStore } from '@oauth-m2m/server'
import { createLocalJWKSet, decodeProtectedHeader, type JWK, jwtVerify } from 'jose'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { ISSUER, jwksOf, kidsOf, postAs, sharedStore, startFleet, testClock, tokenFrom } from './fleet.js'
import { faultyStore } from './store-wrappers.js'

afterEach(() => {
  vi.useRealTimers()
})

async function verifyWith(jwks: { keys: JWK[] }, token: string) {
  return jwtVerify(token, createLocalJWKSet(jwks), { issuer: ISSUER })
}

const kidOf = (token: string) => decodeProtectedHeader(token).kid

describe('signing keys on a shared store', () => {
  it('are the same on every instance: a token from A verifies with the JWKS of B', async () => {
    const clock = testClock()
    const store = sharedStore(clock)
    const [a, b, c] = await startFleet(3, { store, now: clock.now })
    expect(await kidsOf(a!)).toEqual(await kidsOf(b!))
    expect(await kidsOf(c!)).toEqual(await kidsOf(b!))
    const stored = await store.loadSigningKeys()
    expect(stored?.version).toBe(1)
    // The current key and the pre-published next key.
    expect(await kidsOf(a!)).toEqual([stored!.current.jwk.kid, stored!.next.jwk.kid].sort())

    const token = await tokenFrom(a!)
    expect(kidOf(token)).toBe(stored!.current.jwk.kid)
    const { payload } = await verifyWith(await jwksOf(b!), token)
    expect(payload.client_id).toBe('svc')
    // B's introspection accepts it too.
    expect((await postAs(c!, '/introspect', { token })).json.active).toBe(true)
  })

  it('of instances starting at once, one creates the set and the others load it', async () => {
    const clock = testClock()
    const store = sharedStore(clock)
    const save = vi.spyOn(store, 'saveSigningKeys')
    const fleet = await startFleet(4, { store, now: clock.now })
    const results = await Promise.all(save.mock.results.map((r) => r.value))
    expect(results.filter((saved) => saved === true)).toHaveLength(1)
    const kids = await kidsOf(fleet[0]!)
    for (const server of fleet) expect(await kidsOf(server)).toEqual(kids)
  })

  it('rotation at B: B signs with the key A already published, and A follows after the event', async () => {
    const clock = testClock()
    const store = sharedStore(clock)
    const [a, b] = await startFleet(2, { store, now: clock.now })
    const before = await kidsOf(a!)
    const oldToken = await tokenFrom(a!)
    const oldNext = (await store.loadSigningKeys())!.next.jwk.kid

    const rotated = await b!.rotateSigningKey()
    expect(rotated.kid).toBe(oldNext)
    expect(before).toContain(rotated.kid)
    expect(rotated).not.toHaveProperty('d')
    const newNext = (await store.loadSigningKeys())!.next.jwk.kid as string
    expect(before).not.toContain(newNext)
    expect(kidOf(await tokenFrom(b!))).toBe(rotated.kid)

    await vi.waitFor(async () => expect(await kidsOf(a!)).toContain(newNext))
    expect(await kidsOf(a!)).toEqual(await kidsOf(b!))
    expect(kidOf(await tokenFrom(a!))).toBe(rotated.kid)
    // The replaced key stays published: a token it signed still verifies everywhere.
    await verifyWith(await jwksOf(b!), oldToken)
    expect((await postAs(b!, '/introspect', { token: oldToken })).json.active).toBe(true)
  })

  it('concurrent rotations at A and B: two version steps, no key lost', async () => {
    const clock = testClock()
    const store = sharedStore(clock)
    const [a, b] = await startFleet(2, { store, now: clock.now })
    const first = await store.loadSigningKeys()
    const oldToken = await tokenFrom(a!)

    const [fromA, fromB] = await Promise.all([a!.rotateSigningKey(), b!.rotateSigningKey()])
    expect(fromA.kid).not.toBe(fromB.kid)
    const stored = await store.loadSigningKeys()
    expect(stored!.version).toBe(first!.version + 2)
    const storedKids = [stored!.current, stored!.next, ...stored!.retired].map((key) => key.jwk.kid)
    expect(storedKids).toEqual(expect.arrayContaining([first!.current.jwk.kid, fromA.kid, fromB.kid]))
    expect(new Set(storedKids).size).toBe(4)

    await vi.waitFor(async () => expect(await kidsOf(a!)).toEqual(await kidsOf(b!)))
    expect((await kidsOf(a!)).length).toBe(4)
    await verifyWith(await jwksOf(b!), oldToken)
    await verifyWith(await jwksOf(a!), await tokenFrom(b!))
  })

  it('after a lost event: A accepts tokens of B’s new key at once, and its periodic reload follows', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
    const clock = testClock()
    const store = faultyStore(sharedStore(clock))
    store.publish = async () => undefined
    const [a, b] = await startFleet(2, { store, now: clock.now, signing: { refreshEverySec: 30 } })
    const before = await kidsOf(a!)
    await b!.rotateSigningKey()
    const token = await tokenFrom(b!)
    expect((await postAs(a!, '/introspect', { token })).json.active).toBe(true)
    expect(await kidsOf(a!)).toEqual(before)

    vi.advanceTimersByTime(30_000)
    await vi.waitFor(async () => expect(await kidsOf(a!)).toEqual(await kidsOf(b!)))
    expect(kidOf(await tokenFrom(a!))).toBe(kidOf(token))
  })

  it('keeps a replaced key until rotation time + longest token lifetime + refresh period + 60 s, on every instance', async () => {
    const clock = testClock()
    const store = sharedStore(clock)
    const [a, b] = await startFleet(2, {
      store,
      now: clock.now,
      accessTokenLifetimeSec: 300,
      resources: [{ resource: 'https://api.example.com/', accessTokenLifetimeSec: 900 }],
      signing: { refreshEverySec: 20 },
    })
    const oldKid = (await store.loadSigningKeys())!.current.jwk.kid as string
    const rotatedAtMs = clock.ms
    await a!.rotateSigningKey()
    const retired = (await store.loadSigningKeys())!.retired
    expect(retired).toEqual([
      expect.objectContaining({ retainUntilMs: rotatedAtMs + 900_000 + 20_000 + 60_000 }),
    ])
    await vi.waitFor(async () => expect(await kidsOf(b!)).toEqual(await kidsOf(a!)))

    clock.ms = rotatedAtMs + 980_000
    for (const server of [a!, b!]) expect(await kidsOf(server)).toContain(oldKid)
    // Past it, and past the 5 s for which a JWKS document is cached.
    clock.ms += 5001
    for (const server of [a!, b!]) expect(await kidsOf(server)).not.toContain(oldKid)
  })

  it('rotates on schedule: one instance per period, whichever instances check', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
    const clock = testClock()
    const store = faultyStore(sharedStore(clock))
    const signing = { rotateEverySec: 3600, refreshEverySec: 30 }
    const [a, b] = await startFleet(2, { store, now: clock.now, signing })
    const version = async () => (await store.loadSigningKeys())!.version

    // Not due yet: ticks only reload.
    clock.ms += 1_000_000
    vi.advanceTimersByTime(30_000)
    const loads = () => store.calls.filter((name) => name === 'loadSigningKeys').length
    const settled = async () => {
      // Both instances' ticks have loaded the set; any save of theirs came before their load ended.
      const seen = loads()
      vi.advanceTimersByTime(30_000)
      await vi.waitFor(() => expect(loads()).toBeGreaterThanOrEqual(seen + 2))
      await vi.waitFor(async () => expect(await kidsOf(a!)).toEqual(await kidsOf(b!)))
    }
    await settled()
    expect(await version()).toBe(1)

    for (let period = 1; period <= 3; period++) {
      const next = (await store.loadSigningKeys())!.next.jwk.kid
      clock.ms += 3_600_000
      vi.advanceTimersByTime(30_000)
      await vi.waitFor(async () => expect(await version()).toBe(1 + period))
      await settled()
      expect(await version()).toBe(1 + period)
      // The key made current is the one published since the previous rotation.
      expect(kidOf(await tokenFrom(a!))).toBe(next)
      expect(kidOf(await tokenFrom(b!))).toBe(next)
    }
  })

  it('stops its timers on close()', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
    const clock = testClock()
    const [a] = await startFleet(1, {
      store: sharedStore(clock),
      now: clock.now,
      signing: { rotateEverySec: 3600 },
    })
    expect(vi.getTimerCount()).toBe(1)
    await a!.close()
    expect(vi.getTimerCount()).toBe(0)
  })
})

describe('signing keys configured by the operator, with a store', () => {
  it('are never written to the store', async () => {
    const clock = testClock()
    const store = sharedStore(clock)
    const jwk = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' })
    const [a, b] = await startFleet(2, {
      store,
      now: clock.now,
      signing: { keys: [{ ...(jwk as JWK), kid: 'operator-key' }] },
    })
    expect(kidOf(await tokenFrom(a!))).toBe('operator-key')
    await verifyWith(await jwksOf(b!), await tokenFrom(a!))
    await a!.rotateSigningKey()
    expect(await store.loadSigningKeys()).toBeUndefined()
  })
})

describe('signing keys of one process (no store given)', () => {
  it('rotate on schedule as well', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
    const clock = testClock()
    const [a] = await startFleet(1, {
      store: undefined as never,
      now: clock.now,
      signing: { rotateEverySec: 600, refreshEverySec: 60 },
    })
    const first = kidOf(await tokenFrom(a!))
    const next = (await kidsOf(a!)).find((kid) => kid !== first)
    clock.ms += 599_000
    vi.advanceTimersByTime(60_000)
    expect(kidOf(await tokenFrom(a!))).toBe(first)
    clock.ms += 1000
    vi.advanceTimersByTime(60_000)
    await vi.waitFor(async () => expect(kidOf(await tokenFrom(a!))).toBe(next))
  })

  it('are not put on the default store', async () => {
    const load = vi.spyOn(MemoryServerStore.prototype, 'loadSigningKeys')
    const save = vi.spyOn(MemoryServerStore.prototype, 'saveSigningKeys')
    const [a] = await startFleet(1, { store: undefined as never })
    await a!.rotateSigningKey()
    expect(load).not.toHaveBeenCalled()
    expect(save).not.toHaveBeenCalled()
    vi.restoreAllMocks()
  })
})

describe('the signing options', () => {
  it.each([
    [{ rotateEverySec: 0 }, 'signing.rotateEverySec must be a positive integer'],
    [{ refreshEverySec: 1.5 }, 'signing.refreshEverySec must be a positive integer'],
    [{ refreshEverySec: 86_401 }, 'signing.refreshEverySec must be at most 86400'],
    [{ rotateEvery: 60 }, 'signing.rotateEvery is not a known option'],
  ])('refuses %j', async (signing, message) => {
    await expect(startFleet(1, { store: undefined as never, signing: signing as never })).rejects.toThrow(
      message,
    )
  })
})

describe('a store that refuses the signing keys for its own configuration', () => {
  it('makes createAuthorizationServer reject with the store’s ConfigurationError', async () => {
    const store = faultyStore(sharedStore(testClock()))
    store.loadSigningKeys = () =>
      Promise.reject(new ConfigurationError('redisServerStore: keyEncryptionKey is required'))
    await expect(startFleet(1, { store })).rejects.toThrow(
      new ConfigurationError('redisServerStore: keyEncryptionKey is required'),
    )
  })

  it('is a store failure once the server runs', async () => {
    const clock = testClock()
    const store = faultyStore(sharedStore(clock))
    const load = store.loadSigningKeys
    let refuse = false
    store.loadSigningKeys = () =>
      refuse ? Promise.reject(new ConfigurationError('keyEncryptionKey is required')) : load()
    const [a] = await startFleet(1, { store, now: clock.now })
    refuse = true
    await expect(a!.rotateSigningKey()).rejects.toMatchObject({ code: 'ERR_STORE_UNAVAILABLE' })
  })
})
