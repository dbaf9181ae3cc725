/**
 * Distributed single flight: several clients sharing a store that can lock (each standing for a
 * process of a fleet) make one token request per key between them — at a cold start and at
 * refresh time — counted at the real reference server. A lock holder that never comes back, and a
 * store that is down, cost waiting at most `storeLockWaitMs`, never a token.
 */
import diagnostics_channel from 'node:diagnostics_channel'
import { type StartedAuthorizationServer, startAuthorizationServer } from '@oauth-m2m/testing'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import {
  CLIENT_CHANNELS,
  ClientClosedError,
  ConfigurationError,
  createTokenClient,
  type StoreErrorMessage,
  type TokenClient,
  type TokenClientOptions,
  type TokenSet,
  type TokenStore,
} from '../src/index.js'
import { countingStore, crashedHolderStore, downStore } from './support/shared-token-stores.js'

const CLIENTS = 4
const CALLERS = 100

let as: StartedAuthorizationServer
let clockOffsetMs = 0
const now = () => Date.now() + clockOffsetMs
const clients: TokenClient[] = []

beforeAll(async () => {
  as = await startAuthorizationServer()
})
afterAll(() => as.close())
beforeEach(() => {
  clockOffsetMs = 0
  as.takeRequests()
})
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
})

function fleet(store: TokenStore, options: Partial<TokenClientOptions> = {}): TokenClient[] {
  const made = Array.from({ length: CLIENTS }, () =>
    createTokenClient({ ...as.createClient(), scope: 'read', now, store, ...options }),
  )
  clients.push(...made)
  return made
}

/** `CALLERS` concurrent `getToken()` calls on every client of `fleet`. */
async function everyoneAsks(members: TokenClient[]): Promise<TokenSet[]> {
  return Promise.all(members.flatMap((c) => Array.from({ length: CALLERS }, () => c.getToken())))
}

const tokenRequests = () => as.takeRequests({ endpoint: 'token' }).length

/** Moves the clients' clock into the stale period of `token` (past any jittered refreshAt, before expiry). */
function moveIntoRefreshWindow(token: TokenSet): void {
  clockOffsetMs = token.issuedAt + 0.9 * (token.expiresAt - token.issuedAt) - Date.now()
}

function storeErrors(): { messages: StoreErrorMessage[]; stop: () => void } {
  const messages: StoreErrorMessage[] = []
  const fn = (m: unknown) => messages.push(m as StoreErrorMessage)
  diagnostics_channel.subscribe(CLIENT_CHANNELS.storeError, fn)
  return { messages, stop: () => diagnostics_channel.unsubscribe(CLIENT_CHANNELS.storeError, fn) }
}

const WAITING = [
  { how: 'waitForToken', waitForToken: true },
  { how: 'polling the store', waitForToken: false },
] as const

describe.each(WAITING)('clients sharing a store that can lock (waiting by $how)', ({ waitForToken }) => {
  it(`make one token request for ${CALLERS} callers × ${CLIENTS} clients at a cold start`, async () => {
    const { store, calls } = countingStore({ waitForToken })
    const tokens = await everyoneAsks(fleet(store))
    expect(tokenRequests()).toBe(1)
    expect(new Set(tokens.map((t) => t.accessToken)).size).toBe(1)
    // Every client but the holder waited, and the holder gave its lock back.
    expect(calls.release).toBe(1)
    if (waitForToken) expect(calls.waitForToken).toBeGreaterThanOrEqual(CLIENTS - 1)
  })

  it('make one token request at refresh time, all refreshing at once', async () => {
    const { store } = countingStore({ waitForToken })
    const members = fleet(store)
    const [first] = await everyoneAsks(members)
    expect(tokenRequests()).toBe(1)

    moveIntoRefreshWindow(first!)
    // Stale: served at once, while each client refreshes in the background.
    const stale = await everyoneAsks(members)
    expect(new Set(stale.map((t) => t.accessToken))).toEqual(new Set([first!.accessToken]))
    await vi.waitFor(async () => {
      const current = await Promise.all(members.map((c) => c.getToken()))
      expect(current.every((t) => t.accessToken !== first!.accessToken)).toBe(true)
    })
    const refreshed = await everyoneAsks(members)
    expect(new Set(refreshed.map((t) => t.accessToken)).size).toBe(1)
    expect(tokenRequests()).toBe(1)
  })

  it('a holder that crashed holds no one up past its lock TTL: one waiter takes the lock over', async () => {
    const { store, abandoned } = crashedHolderStore({ waitForToken })
    // Lock TTL = retry.deadlineMs + 2 × storeTimeoutMs = 300 ms, well within storeLockWaitMs.
    const tokens = await everyoneAsks(
      fleet(store, { retry: { deadlineMs: 200 }, storeTimeoutMs: 50, storeLockWaitMs: 10_000 }),
    )
    expect(abandoned).toHaveLength(1)
    expect(tokenRequests()).toBe(1)
    expect(new Set(tokens.map((t) => t.accessToken)).size).toBe(1)
  })
})

describe('clients sharing a store that can lock', () => {
  it('use the token another client stored at refresh time, when they refresh later (jitter)', async () => {
    const { store, calls } = countingStore()
    const members = fleet(store)
    const [first] = await everyoneAsks(members)
    moveIntoRefreshWindow(first!)

    const [early, ...late] = members
    await early!.getToken()
    await vi.waitFor(async () => expect((await early!.getToken()).accessToken).not.toBe(first!.accessToken))
    const locksBefore = calls.lock
    for (const member of late) {
      await member.getToken()
      await vi.waitFor(async () => expect((await member.getToken()).accessToken).not.toBe(first!.accessToken))
    }
    expect(tokenRequests()).toBe(2)
    // The later ones found a fresh token in the store: no lock, no request.
    expect(calls.lock).toBe(locksBefore)
  })

  it('each fetch their own after storeLockWaitMs when the holder never comes back', async () => {
    const { store, calls } = crashedHolderStore()
    // The default lock TTL (30 s deadline + 2 s) outlasts the wait.
    const tokens = await everyoneAsks(fleet(store, { storeLockWaitMs: 200 }))
    expect(tokens.every((t) => t.tokenType === 'Bearer')).toBe(true)
    // One request per client (single flight within each), after waiting for the lock's holder.
    expect(tokenRequests()).toBe(CLIENTS)
    expect(calls.waitForToken).toBeGreaterThanOrEqual(CLIENTS)
  })

  it('do not wait at all with storeLockWaitMs 0', async () => {
    const { store, calls } = crashedHolderStore()
    await everyoneAsks(fleet(store, { storeLockWaitMs: 0 }))
    expect(tokenRequests()).toBe(CLIENTS)
    expect(calls.waitForToken).toBe(0)
  })

  it('each fetch their own when the store is down, and the failures are published', async () => {
    const errors = storeErrors()
    try {
      const { store, calls } = downStore()
      const tokens = await everyoneAsks(fleet(store))
      expect(tokens.every((t) => t.tokenType === 'Bearer')).toBe(true)
      expect(tokenRequests()).toBe(CLIENTS)
      // The read failed: no lock is attempted on a store that is down.
      expect(calls.lock).toBe(0)
      await vi.waitFor(() =>
        expect(errors.messages.filter((m) => m.operation === 'set')).toHaveLength(CLIENTS),
      )
      expect(errors.messages.filter((m) => m.operation === 'get')).toHaveLength(CLIENTS)
    } finally {
      errors.stop()
    }
  })

  it('each fetch their own when the lock fails, published as a lock failure', async () => {
    const errors = storeErrors()
    try {
      const { store } = countingStore()
      store.lock = () => Promise.reject(new Error('READONLY You cannot write against a read only replica'))
      await everyoneAsks(fleet(store))
      expect(tokenRequests()).toBe(CLIENTS)
      expect(errors.messages.filter((m) => m.operation === 'lock')).toHaveLength(CLIENTS)
      expect(errors.messages[0]!.error).toEqual({
        name: 'Error',
        code: undefined,
        message: 'READONLY You cannot write against a read only replica',
      })
    } finally {
      errors.stop()
    }
  })

  it('stop waiting for another client when closed', async () => {
    const { store, calls } = crashedHolderStore()
    const [member] = fleet(store, { storeLockWaitMs: 60_000 })
    const pending = member!.getToken()
    await vi.waitFor(() => expect(calls.waitForToken).toBeGreaterThanOrEqual(1))
    await member!.close()
    await expect(pending).rejects.toBeInstanceOf(ClientClosedError)
    expect(tokenRequests()).toBe(0)
  })

  it('refuse a storeLockWaitMs that is not a number ≥ 0', () => {
    for (const storeLockWaitMs of [-1, Number.NaN, '5' as unknown as number]) {
      expect(() => createTokenClient({ ...as.createClient(), storeLockWaitMs })).toThrow(ConfigurationError)
    }
  })
})
