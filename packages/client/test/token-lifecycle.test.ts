import diagnostics_channel from 'node:diagnostics_channel'
import { clientSecretPost } from '@oauth-m2m/core'
import { SignJWT } from 'jose'
import { HttpResponse } from 'msw'
import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  CLIENT_CHANNELS,
  createTokenClient,
  type FetchStartMessage,
  type RefreshFailedMessage,
  type RefreshScheduledMessage,
  type TokenClient,
  type TokenClientOptions,
  type TokenSet,
  type TokenStore,
} from '../src/index.js'
import {
  type LifecycleTimings,
  refreshRetryDelayMs,
  scheduleToken,
  tokenState,
} from '../src/token-lifecycle.js'
import {
  type Answer,
  oauthErrorAnswer,
  scriptedTokenServer,
  TOKEN_ENDPOINT,
  tokenAnswer,
} from './msw-token-server.js'

const DEFAULTS: LifecycleTimings = {
  refreshRatio: 0.8,
  refreshMarginMs: 60_000,
  refreshJitterRatio: 0.1,
  expiryMarginMs: 30_000,
  defaultExpiresInMs: 300_000,
  maxLifetimeMs: 86_400_000,
}
const HOUR = 3_600_000

describe('scheduleToken', () => {
  const token = { issuedAt: 0, expiresAt: HOUR }

  it('refreshes at 80 % of the lifetime without jitter, and expires 30 s early', () => {
    expect(scheduleToken(token, DEFAULTS, () => 0)).toEqual({
      refreshAt: 0.8 * HOUR,
      expiredAt: HOUR - 30_000,
    })
  })

  it('subtracts at most 10 % of the lifetime as jitter', () => {
    expect(scheduleToken(token, DEFAULTS, () => 0.999999).refreshAt).toBeCloseTo(0.7 * HOUR, -1)
  })

  it('refreshes at expiresAt − margin when that comes first', () => {
    const timings = { ...DEFAULTS, refreshRatio: 1, refreshJitterRatio: 0 }
    expect(scheduleToken(token, timings).refreshAt).toBe(HOUR - 60_000)
  })

  it('caps the refresh margin and the expiry margin at half a short lifetime', () => {
    const short = { issuedAt: 0, expiresAt: 40_000 }
    const schedule = scheduleToken(short, { ...DEFAULTS, refreshJitterRatio: 0 })
    expect(schedule.expiredAt).toBe(20_000)
    expect(schedule.refreshAt).toBe(20_000)
  })

  it('never puts refreshAt before issuedAt or after expiredAt', () => {
    for (const lifetime of [1, 10, 1000, 30_000, 61_000, HOUR, 24 * HOUR]) {
      for (const r of [0, 0.5, 0.999]) {
        const s = scheduleToken({ issuedAt: 100, expiresAt: 100 + lifetime }, DEFAULTS, () => r)
        expect(s.refreshAt).toBeGreaterThanOrEqual(100)
        expect(s.refreshAt).toBeLessThanOrEqual(s.expiredAt)
      }
    }
  })

  it('names the state of a token at an instant', () => {
    const s = { refreshAt: 10, expiredAt: 20 }
    expect([tokenState(s, 9), tokenState(s, 10), tokenState(s, 19), tokenState(s, 20)]).toEqual([
      'fresh',
      'stale',
      'stale',
      'expired',
    ])
  })

  it('backs failed background refreshes off exponentially, up to a minute', () => {
    expect(refreshRetryDelayMs(1, () => 0)).toBe(500)
    expect(refreshRetryDelayMs(1, () => 0.9999)).toBeLessThanOrEqual(1000)
    expect(refreshRetryDelayMs(3, () => 0)).toBe(2000)
    expect(refreshRetryDelayMs(30, () => 0.9999)).toBeLessThanOrEqual(60_000)
  })
})

const clients: TokenClient[] = []
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
})

/** A client whose clock the test moves, against a scripted token endpoint. */
function setup(answer: Answer, options: Partial<TokenClientOptions> = {}) {
  const clock = { now: 1_000_000 }
  const server = scriptedTokenServer(answer)
  const client = createTokenClient({
    tokenEndpoint: TOKEN_ENDPOINT,
    clientId: 'service-a',
    auth: clientSecretPost('s3cret'),
    dispatcher: server.dispatcher,
    retry: { minDelayMs: 1, maxDelayMs: 2, retries: 1 },
    refreshJitterRatio: 0, // a known schedule: refresh at 80 % (2 880 s), expired at 3 570 s
    now: () => clock.now,
    ...options,
  })
  clients.push(client)
  return { clock, server, client }
}

function listen<T>(channel: string): { messages: T[]; stop: () => void } {
  const messages: T[] = []
  const fn = (m: unknown) => messages.push(m as T)
  diagnostics_channel.subscribe(channel, fn)
  return { messages, stop: () => diagnostics_channel.unsubscribe(channel, fn) }
}

/** Gives background work a chance to run, to check that something did NOT happen. */
async function settle(ms = 50): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms))
}

describe('the token lifecycle', () => {
  it('serves a fresh token from memory without a request', async () => {
    const { clock, server, client } = setup(() => tokenAnswer())
    const first = await client.getToken()
    clock.now += 2_879_000
    const again = await client.getToken()
    expect(again).toBe(first)
    expect(server.requests).toHaveLength(1)
  })

  it('serves a stale token at once and refreshes it exactly once in the background', async () => {
    const { clock, server, client } = setup(() => tokenAnswer())
    const first = await client.getToken()
    clock.now += 2_900_000 // stale: past refreshAt, before expiry
    const during = await Promise.all(Array.from({ length: 50 }, () => client.getToken()))
    expect(during.every((t) => t === first)).toBe(true)
    const after = await vi.waitFor(async () => {
      const token = await client.getToken()
      expect(token.accessToken).not.toBe(first.accessToken)
      return token
    })
    expect(after.tokenType).toBe('Bearer')
    await settle()
    expect(server.requests).toHaveLength(2)
  })

  it('says on fetch:start whether a caller waits for the request', async () => {
    const starts = listen<FetchStartMessage>(CLIENT_CHANNELS.fetchStart)
    try {
      const { clock, client } = setup(() => tokenAnswer())
      const first = await client.getToken()
      clock.now += 2_900_000 // stale: refreshed in the background
      await client.getToken()
      await vi.waitFor(async () => expect((await client.getToken()).accessToken).not.toBe(first.accessToken))
      expect(starts.messages.map((m) => [m.server, m.background])).toEqual([
        [TOKEN_ENDPOINT, false],
        [TOKEN_ENDPOINT, true],
      ])
    } finally {
      starts.stop()
    }
  })

  it('makes callers wait for a new token once the old one has expired', async () => {
    const { clock, server, client } = setup(() => tokenAnswer())
    const first = await client.getToken()
    clock.now += 3_570_000 // expiresAt − expiry margin
    const next = await client.getToken()
    expect(next.accessToken).not.toBe(first.accessToken)
    expect(server.requests).toHaveLength(2)
  })

  it('keeps serving the valid token when the background refresh fails, without an unhandled rejection', async () => {
    const unhandled: unknown[] = []
    const onUnhandled = (reason: unknown) => unhandled.push(reason)
    process.on('unhandledRejection', onUnhandled)
    const failed = listen<RefreshFailedMessage>(CLIENT_CHANNELS.refreshFailed)
    try {
      const { clock, server, client } = setup((n) => (n === 1 ? tokenAnswer() : HttpResponse.error()))
      const first = await client.getToken()
      clock.now += 2_900_000
      expect(await client.getToken()).toBe(first)
      await vi.waitFor(() => expect(failed.messages).toHaveLength(1))
      expect(failed.messages[0]!.error.name).toBe('NetworkError')
      const attempts = server.requests.length // 1 + the retried refresh

      // Backed off: calls right after the failure do not hammer the server.
      expect(await client.getToken()).toBe(first)
      await settle()
      expect(server.requests).toHaveLength(attempts)

      // Once the backoff has passed, the next call tries again.
      clock.now = failed.messages[0]!.retryAt
      expect(await client.getToken()).toBe(first)
      await vi.waitFor(() => expect(server.requests.length).toBeGreaterThan(attempts))
      expect(unhandled).toEqual([])
    } finally {
      failed.stop()
      process.off('unhandledRejection', onUnhandled)
    }
  })

  it('serves the still-valid token without calling a server that asked for a pause', async () => {
    const { clock, server, client } = setup(
      (n) => (n === 1 ? tokenAnswer() : oauthErrorAnswer(429, 'slow_down', { 'retry-after': '600' })),
      { retry: { retries: 1 } },
    )
    const failed = listen<RefreshFailedMessage>(CLIENT_CHANNELS.refreshFailed)
    const first = await client.getToken()
    clock.now += 2_900_000
    await client.getToken()
    await vi.waitFor(() => expect(failed.messages).toHaveLength(1)).finally(failed.stop)
    expect(server.requests).toHaveLength(2)
    clock.now += 120_000 // past the failure backoff, still inside the 600 s pause
    expect(await client.getToken()).toBe(first)
    await settle()
    expect(server.requests).toHaveLength(2)
  })

  it('spreads refreshAt across a fleet of clients with jitter', async () => {
    const scheduled = listen<RefreshScheduledMessage>(CLIENT_CHANNELS.refreshScheduled)
    try {
      const fleet = Array.from({ length: 100 }, () => setup(() => tokenAnswer(), { refreshJitterRatio: 0.1 }))
      await Promise.all(fleet.map(({ client }) => client.getToken()))
      const offsets = scheduled.messages.map((m) => m.refreshAt - 1_000_000)
      expect(offsets).toHaveLength(100)
      for (const offset of offsets) {
        expect(offset).toBeGreaterThanOrEqual(0.7 * HOUR)
        expect(offset).toBeLessThanOrEqual(0.8 * HOUR)
      }
      expect(new Set(offsets).size).toBeGreaterThan(90)
      expect(Math.max(...offsets) - Math.min(...offsets)).toBeGreaterThan(0.05 * HOUR)
    } finally {
      scheduled.stop()
    }
  })

  it('keeps at most maxCacheEntries tokens in memory, dropping the least recently used', async () => {
    const { server, client } = setup(() => tokenAnswer(), { maxCacheEntries: 2 })
    await client.getToken({ scope: 'a' })
    await client.getToken({ scope: 'b' })
    await client.getToken({ scope: 'c' })
    expect(server.requests).toHaveLength(3)
    await client.getToken({ scope: 'c' })
    expect(server.requests).toHaveLength(3)
    await client.getToken({ scope: 'a' }) // dropped for c
    expect(server.requests).toHaveLength(4)
  })

  it('forgets a token on invalidate, and the next call fetches a new one', async () => {
    const { server, client } = setup(() => tokenAnswer())
    const first = await client.getToken()
    client.invalidate()
    expect((await client.getToken()).accessToken).not.toBe(first.accessToken)
    expect(server.requests).toHaveLength(2)
  })
})

describe('absurd lifetimes', () => {
  const DAY = 24 * HOUR

  it('caches a token with expires_in 1e12 for maxLifetimeSec (default 24 h), not 31 746 years', async () => {
    const { clock, server, client } = setup((n) =>
      n === 1 ? tokenAnswer({ expires_in: 1e12 }) : tokenAnswer(),
    )
    const first = await client.getToken()
    expect(first.expiresAt).toBe(first.issuedAt + DAY)
    clock.now += DAY - 30_000 // expired (expiry margin) by the bounded lifetime
    const second = await client.getToken()
    expect(second.accessToken).not.toBe(first.accessToken)
    expect(server.requests).toHaveLength(2)
  })

  it('bounds a JWT exp centuries ahead by a configured maxLifetimeSec', async () => {
    const jwt = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime(4_000_000_000)
      .sign(new TextEncoder().encode('k'.repeat(32)))
    const { client } = setup(() => HttpResponse.json({ access_token: jwt, token_type: 'Bearer' }), {
      maxLifetimeSec: 600,
    })
    const token = await client.getToken()
    expect(token.expiresAt).toBe(token.issuedAt + 600_000)
  })

  it('bounds a token a shared store holds with an absurd expiresAt (and a future issuedAt)', async () => {
    const planted: TokenSet = {
      accessToken: 'planted-for-ever',
      tokenType: 'Bearer',
      issuedAt: 1_000_000 + 1e12,
      expiresAt: 1_000_000 + 1e15,
      scope: undefined,
      response: {},
    }
    // What another, misconfigured client wrote: the store hands it out for every key.
    const store: TokenStore = { get: () => planted, set: () => {}, delete: () => {} }
    const { clock, server, client } = setup(() => tokenAnswer(), { store })
    const t0 = clock.now
    const adopted = await client.getToken()
    expect(adopted.accessToken).toBe('planted-for-ever')
    expect(adopted).toMatchObject({ issuedAt: t0, expiresAt: t0 + DAY })
    expect(server.requests).toHaveLength(0)
    clock.now += DAY
    expect((await client.getToken()).accessToken).not.toBe('planted-for-ever')
    expect(server.requests).toHaveLength(1)
  })
})

describe('close', () => {
  it('rejects every later call with ClientClosedError', async () => {
    const { client } = setup(() => tokenAnswer())
    await client.getToken()
    await client.close()
    await expect(client.getToken()).rejects.toMatchObject({ code: 'ERR_CLIENT_CLOSED' })
    await expect(client.fetch('https://api.example.test/')).rejects.toMatchObject({
      code: 'ERR_CLIENT_CLOSED',
    })
    expect(() => client.interceptor()).toThrow(/closed/)
    expect(() => client.invalidate()).toThrow(/closed/)
  })

  it('cancels a request in flight and its retry waits', async () => {
    const { server, client } = setup(
      () => new HttpResponse(null, { status: 503, headers: { 'retry-after': '10' } }),
    )
    const pending = client.getToken()
    await vi.waitFor(() => expect(server.requests).toHaveLength(1))
    await client.close()
    await expect(pending).rejects.toMatchObject({ code: 'ERR_CLIENT_CLOSED' })
    expect(server.requests).toHaveLength(1)
  })
})
