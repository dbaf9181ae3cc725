/**
 * Brute-force protection across instances on one store: failures spread over the fleet add up,
 * the instance that reaches a limit tells the others, and a successful authentication still makes
 * no store round trip.
 */
import { describe, expect, it, vi } from 'vitest'
import { keyDigest } from '../src/key-digest.js'
import { postAs, SECRET, sharedStore, startFleet, testClock } from './fleet.js'
import { faultyStore } from './store-wrappers.js'

const FROM = { remoteAddress: '192.0.2.7' }

describe('rate limit on a shared store', () => {
  it('locks the (client, source) pair on every instance once failures spread over A and B reach the limit', async () => {
    const clock = testClock()
    const store = sharedStore(clock)
    const [a, b, c] = await startFleet(3, {
      store,
      now: clock.now,
      rateLimit: { maxFailures: 4, maxFailuresPerClient: 100, windowMs: 60_000 },
    })
    const token = (server: typeof a, secret: string, options = FROM) =>
      postAs(server!, '/token', { grant_type: 'client_credentials' }, secret, options).then((r) => r.status)
    for (const server of [a, b, a]) expect(await token(server, 'wrong')).toBe(401)
    // Below the limit, on each instance and overall: the right secret still works.
    expect(await token(b, SECRET)).toBe(200)
    expect(await token(b, 'wrong')).toBe(401)

    for (const server of [a, b, c]) {
      await vi.waitFor(async () => expect(await token(server, SECRET)).toBe(429))
    }
    // Another source is not locked.
    expect(await token(a, SECRET, { remoteAddress: '198.51.100.1' })).toBe(200)
    // The lock ends with the window, as on one instance.
    clock.ms += 60_001
    for (const server of [a, b, c]) expect(await token(server, SECRET)).toBe(200)
  })

  it('locks the client id everywhere once failures from all sources reach maxFailuresPerClient', async () => {
    const clock = testClock()
    const [a, b] = await startFleet(2, {
      store: sharedStore(clock),
      now: clock.now,
      rateLimit: { maxFailures: 100, maxFailuresPerClient: 4, windowMs: 60_000 },
    })
    const token = (server: typeof a, secret: string, remoteAddress: string) =>
      postAs(server!, '/token', { grant_type: 'client_credentials' }, secret, { remoteAddress }).then(
        (r) => r.status,
      )
    expect(await token(a, 'wrong', '192.0.2.1')).toBe(401)
    expect(await token(b, 'wrong', '192.0.2.2')).toBe(401)
    expect(await token(a, 'wrong', '192.0.2.3')).toBe(401)
    expect(await token(b, 'wrong', '192.0.2.4')).toBe(401)
    for (const server of [a, b]) {
      await vi.waitFor(async () => expect(await token(server, SECRET, '198.51.100.9')).toBe(429))
    }
  })

  it('makes no store call when authentication succeeds', async () => {
    const clock = testClock()
    const store = faultyStore(sharedStore(clock))
    const [a] = await startFleet(1, { store, now: clock.now })
    const before = store.calls.length
    for (let i = 0; i < 5; i++) {
      expect((await postAs(a!, '/token', { grant_type: 'client_credentials' }, SECRET, FROM)).status).toBe(
        200,
      )
    }
    expect(store.calls.slice(before)).toEqual([])
  })

  it('takes locks from auth-lock events, at most one window long, and ignores malformed ones', async () => {
    const clock = testClock()
    const store = sharedStore(clock)
    const [a] = await startFleet(1, {
      store,
      now: clock.now,
      rateLimit: { maxFailures: 2, maxFailuresPerClient: 100, windowMs: 60_000 },
    })
    const token = () =>
      postAs(a!, '/token', { grant_type: 'client_credentials' }, SECRET, FROM).then((r) => r.status)
    await store.publish({ type: 'auth-lock', key: 'x.unknown', untilMs: clock.ms + 60_000 })
    await store.publish({ type: 'auth-lock', key: `c.${keyDigest('svc')}`, untilMs: Number.NaN })
    await store.publish({ type: 'auth-lock', key: 42 as never, untilMs: clock.ms + 60_000 })
    expect(await token()).toBe(200)
    // Another instance's lock of the client id, claiming ten days: held for one window.
    await store.publish({ type: 'auth-lock', key: `c.${keyDigest('svc')}`, untilMs: clock.ms + 864_000_000 })
    await vi.waitFor(async () => expect(await token()).toBe(429))
    clock.ms += 60_001
    expect(await token()).toBe(200)
  })
})
