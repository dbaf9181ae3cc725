/**
 * What every {@link ServerStore} must do for the state several instances share (registered
 * clients, signing keys, failure counts, change events), written once and run against each store:
 * the in-memory one here, the Redis one in @oauth-m2m/redis.
 */
import type { ServerStore, StoredClient, StoredSigningKeys, StoreEvent } from '@oauth-m2m/server'
import { describe, expect, it } from 'vitest'

/** A fresh, empty store (and, for stores that need it, how to close it). */
export type StoreFactory = () => Promise<{ store: ServerStore; close?: () => Promise<void> }>

function keySet(version: number, kid: string): StoredSigningKeys {
  const jwk = { kty: 'OKP', crv: 'Ed25519', x: `x-${kid}`, d: `d-${kid}`, kid, alg: 'EdDSA' }
  return {
    version,
    current: { jwk, activatedAtMs: 1_700_000_000_000 },
    next: { jwk: { ...jwk, kid: `${kid}-next` } },
    retired: [{ jwk: { ...jwk, kid: `${kid}-old` }, retainUntilMs: 1_700_000_100_000 }],
  }
}

/** Registers the shared-state contract of {@link ServerStore} for the store `create` makes. */
export function describeSharedStateContract(name: string, create: StoreFactory): void {
  describe(`${name}: shared state`, () => {
    async function withStore(run: (store: ServerStore) => Promise<void>): Promise<void> {
      const { store, close } = await create()
      try {
        await run(store)
      } finally {
        await close?.()
      }
    }

    it('keeps a registered client as given until it is deleted', () =>
      withStore(async (store) => {
        const client = { client_id: 'c1', scope: 'a b', nested: { list: [1, 'two'] }, hash: 'h' }
        expect(await store.saveClient(client)).toBeUndefined()
        expect(await store.findClient('c1')).toEqual(client)
        expect(await store.findClient('c2')).toBeUndefined()
        await store.saveClient({ ...client, scope: 'a' })
        expect((await store.findClient('c1'))?.scope).toBe('a')
        expect(await store.deleteClient('c1')).toBe(true)
        expect(await store.deleteClient('c1')).toBe(false)
        expect(await store.findClient('c1')).toBeUndefined()
      }))

    it('replaces a client by compare-and-set on the client as it was read', () =>
      withStore(async (store) => {
        await store.saveClient({ client_id: 'c1', scope: 'a', nested: { list: [1, 'two'] } })
        const read = (await store.findClient('c1')) as StoredClient
        expect(await store.replaceClient(read, { ...read, scope: 'b' })).toBe(true)
        expect((await store.findClient('c1'))?.scope).toBe('b')
        // The client read before that change is no longer the one stored.
        expect(await store.replaceClient(read, { ...read, scope: 'c' })).toBe(false)
        expect((await store.findClient('c1'))?.scope).toBe('b')
      }))

    it('does not bring back a client deleted since it was read', () =>
      withStore(async (store) => {
        await store.saveClient({ client_id: 'c1', scope: 'a' })
        const read = (await store.findClient('c1')) as StoredClient
        await store.deleteClient('c1')
        expect(await store.replaceClient(read, { ...read, scope: 'b' })).toBe(false)
        expect(await store.findClient('c1')).toBeUndefined()
      }))

    it('settles concurrent replacements of one reading with exactly one winner', () =>
      withStore(async (store) => {
        await store.saveClient({ client_id: 'c1', scope: 'a' })
        const read = (await store.findClient('c1')) as StoredClient
        const results = await Promise.all(
          ['b', 'c', 'd', 'e'].map((scope) => store.replaceClient(read, { ...read, scope })),
        )
        expect(results.filter(Boolean)).toHaveLength(1)
        expect((await store.findClient('c1'))?.scope).toBe(['b', 'c', 'd', 'e'][results.indexOf(true)])
      }))

    it('returns a copy of a client: changing it changes nothing stored', () =>
      withStore(async (store) => {
        await store.saveClient({ client_id: 'c1', scope: 'a' })
        const found = (await store.findClient('c1')) as unknown as { scope: string }
        found.scope = 'changed'
        expect((await store.findClient('c1'))?.scope).toBe('a')
      }))

    it('saves signing keys by compare-and-set on the version', () =>
      withStore(async (store) => {
        expect(await store.loadSigningKeys()).toBeUndefined()
        expect(await store.saveSigningKeys(keySet(2, 'k'))).toBe(false)
        expect(await store.saveSigningKeys(keySet(1, 'k1'))).toBe(true)
        expect(await store.loadSigningKeys()).toEqual(keySet(1, 'k1'))
        // Two instances rotating from version 1: the first wins, the second must reload.
        expect(await store.saveSigningKeys(keySet(2, 'k2a'))).toBe(true)
        expect(await store.saveSigningKeys(keySet(2, 'k2b'))).toBe(false)
        expect(await store.loadSigningKeys()).toEqual(keySet(2, 'k2a'))
      }))

    it('settles concurrent saves of one version with exactly one winner', () =>
      withStore(async (store) => {
        await store.saveSigningKeys(keySet(1, 'k1'))
        const results = await Promise.all(
          Array.from({ length: 10 }, (_, i) => store.saveSigningKeys(keySet(2, `k2-${i}`))),
        )
        expect(results.filter(Boolean)).toHaveLength(1)
        const winner = results.indexOf(true)
        expect((await store.loadSigningKeys())?.current.jwk.kid).toBe(`k2-${winner}`)
      }))

    it('counts failures in a window opened by the first failure', () =>
      withStore(async (store) => {
        const first = await store.countFailure('key-a', 60_000)
        expect(first.failures).toBe(1)
        const second = await store.countFailure('key-a', 60_000)
        expect(second.failures).toBe(2)
        // The window's end is fixed by the first failure.
        expect(second.windowEndsAtMs).toBe(first.windowEndsAtMs)
        expect(first.windowEndsAtMs).toBeGreaterThan(Date.now() + 50_000)
        expect((await store.countFailure('key-b', 60_000)).failures).toBe(1)
      }))

    it('counts concurrent failures without losing any', () =>
      withStore(async (store) => {
        await Promise.all(Array.from({ length: 20 }, () => store.countFailure('key', 60_000)))
        expect((await store.countFailure('key', 60_000)).failures).toBe(21)
      }))

    it('starts a new count when the window has ended', () =>
      withStore(async (store) => {
        await store.countFailure('short', 50)
        await store.countFailure('short', 50)
        await new Promise((resolve) => setTimeout(resolve, 120))
        expect((await store.countFailure('short', 50)).failures).toBe(1)
      }))

    it('delivers a published event to every subscriber until it unsubscribes', () =>
      withStore(async (store) => {
        const seenA: StoreEvent[] = []
        const seenB: StoreEvent[] = []
        const stopA = store.subscribe((event) => seenA.push(event))
        const stopB = store.subscribe((event) => seenB.push(event))
        // Subscribing may take a round trip on a remote store.
        await settle(
          () => store.publish({ type: 'signing-keys' }),
          () => seenA.length > 0 && seenB.length > 0,
        )
        seenA.length = 0
        seenB.length = 0
        const lock: StoreEvent = { type: 'auth-lock', key: 'digest', untilMs: 1_700_000_000_000 }
        await store.publish(lock)
        await store.publish({ type: 'client', clientId: 'c1' })
        await waitUntil(() => seenA.length === 2 && seenB.length === 2)
        expect(seenA).toEqual([lock, { type: 'client', clientId: 'c1' }])
        expect(seenB).toEqual(seenA)
        stopA()
        await store.publish({ type: 'signing-keys' })
        await waitUntil(() => seenB.length === 3)
        expect(seenA).toHaveLength(2)
        stopB()
      }))

    it('keeps delivering to other subscribers when one listener throws', () =>
      withStore(async (store) => {
        const seen: StoreEvent[] = []
        const stopThrowing = store.subscribe(() => {
          throw new Error('listener fault')
        })
        const stop = store.subscribe((event) => seen.push(event))
        await settle(
          () => store.publish({ type: 'signing-keys' }),
          () => seen.length > 0,
        )
        stopThrowing()
        stop()
      }))

    it('answers a ping', () => withStore((store) => store.ping()))
  })
}

async function waitUntil(done: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !done(); i++) await new Promise((resolve) => setTimeout(resolve, 10))
  expect(done()).toBe(true)
}

/** Publishes until the subscribers have seen one event (a remote subscription may still be starting). */
async function settle(publish: () => Promise<void>, done: () => boolean): Promise<void> {
  for (let i = 0; i < 50 && !done(); i++) {
    await publish()
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  expect(done()).toBe(true)
}
