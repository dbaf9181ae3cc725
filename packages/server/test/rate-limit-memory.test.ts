/**
 * The rate limiter's memory per entry is constant: a client id has no length limit (RFC 6749),
 * so its tables are keyed by fixed-size digests, never by the raw id.
 */
import { LRUCache } from 'lru-cache'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { FailedAuthLimiter } from '../src/rate-limit.js'
import { expectOAuthError, postForm, startServer } from './test-server.js'

afterEach(() => {
  vi.restoreAllMocks()
})

describe('rate limiter memory', () => {
  it('keys its tables by 43-character digests, and locks a 60 KB client id out as any other', () => {
    const set = vi.spyOn(LRUCache.prototype, 'set')
    const limiter = new FailedAuthLimiter({ maxFailures: 2, maxFailuresPerClient: 100, windowMs: 60_000 })
    const longId = 'x'.repeat(60_000)
    limiter.recordFailure(longId, '192.0.2.1')
    limiter.recordFailure(longId, '192.0.2.1')
    expect(limiter.retryAfterSec(longId, '192.0.2.1')).toBeGreaterThan(0)
    // Another id sharing the long prefix is another key.
    expect(limiter.retryAfterSec(`${longId}y`, '192.0.2.1')).toBe(0)
    expect(limiter.retryAfterSec(longId, '192.0.2.2')).toBe(0)
    const keys = set.mock.calls.map(([key]) => key)
    expect(keys.length).toBeGreaterThan(0)
    for (const key of keys) expect(key).toMatch(/^[A-Za-z0-9_-]{43}$/)
  })

  it('refuses the former option name maxTrackedIds', async () => {
    await expect(startServer({ clients: [], rateLimit: { maxTrackedIds: 5 } as never })).rejects.toThrow(
      'rateLimit.maxTrackedIds is not a known option',
    )
  })

  it('locks out a long client id over HTTP', async () => {
    const { url } = await startServer({
      clients: [{ client_id: 'svc', client_secret: 'svc-secret' }],
      rateLimit: { maxFailures: 2, windowMs: 60_000 },
    })
    const longId = 'x'.repeat(30_000)
    const token = () =>
      postForm(`${url}/token`, {
        grant_type: 'client_credentials',
        client_id: longId,
        client_secret: 'guess',
      })
    expectOAuthError(await token(), 401, 'invalid_client')
    expectOAuthError(await token(), 401, 'invalid_client')
    expectOAuthError(await token(), 429, 'invalid_client')
  })
})
