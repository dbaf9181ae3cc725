/**
 * The rate limiter cannot be flushed: a flood of failures for other ids must not evict a live
 * lock (which would restore full guessing speed), while memory stays bounded.
 */
import { encodeBasicCredentials } from '@oauth-m2m/core/internal'
import { describe, expect, it } from 'vitest'
import { FailedAuthLimiter } from '../src/rate-limit.js'
import { FORM, startServer } from './test-server.js'

describe('rate limiter under a flood of other ids', () => {
  it('keeps a lock after failures for maxTrackedEntries + 50 other client ids (over HTTP)', async () => {
    const maxTrackedEntries = 20
    const { url } = await startServer({
      clients: [{ client_id: 'svc', client_secret: 'svc-secret' }],
      rateLimit: { maxFailures: 2, maxFailuresPerClient: 100, windowMs: 60_000, maxTrackedEntries },
    })
    const token = (clientId: string, secret: string) =>
      fetch(`${url}/token`, {
        method: 'POST',
        headers: { authorization: encodeBasicCredentials(clientId, secret), 'content-type': FORM },
        body: 'grant_type=client_credentials',
      }).then(async (res) => {
        await res.arrayBuffer()
        return res.status
      })
    expect(await token('svc', 'guess-1')).toBe(401)
    expect(await token('svc', 'guess-2')).toBe(401)
    expect(await token('svc', 'guess-3')).toBe(429)

    for (let i = 0; i < maxTrackedEntries + 50; i++) expect(await token(`flood-${i}`, 'x')).toBe(401)

    expect(await token('svc', 'guess-4')).toBe(429)
  })

  it('keeps every live lock when the lock table is full, and locks a new id at its first failure', () => {
    const limiter = new FailedAuthLimiter({
      maxFailures: 3,
      maxFailuresPerClient: 1_000_000,
      windowMs: 60_000,
      maxTrackedEntries: 10,
    })
    const lock = (id: string) => {
      for (let i = 0; i < 3; i++) limiter.recordFailure(id, '192.0.2.1')
    }
    for (let i = 0; i < 10; i++) lock(`locked-${i}`)
    // Past the table's size: these cannot evict the live locks.
    for (let i = 0; i < 60; i++) lock(`more-${i}`)

    for (let i = 0; i < 10; i++) expect(limiter.retryAfterSec(`locked-${i}`, '192.0.2.1')).toBeGreaterThan(0)
    // Penalised while the lock table is full: one failure is enough.
    limiter.recordFailure('newcomer', '192.0.2.1')
    expect(limiter.retryAfterSec('newcomer', '192.0.2.1')).toBeGreaterThan(0)
    // A client that has not failed is not refused.
    expect(limiter.retryAfterSec('innocent', '192.0.2.1')).toBe(0)
  })

  it('frees lock slots as locks expire, and counts normally again', () => {
    let nowMs = Date.now()
    const limiter = new FailedAuthLimiter({
      maxFailures: 3,
      maxFailuresPerClient: 1_000_000,
      windowMs: 40,
      maxTrackedEntries: 2,
      now: () => nowMs,
    })
    for (const id of ['a', 'b']) for (let i = 0; i < 3; i++) limiter.recordFailure(id, 's')
    expect(limiter.retryAfterSec('a', 's')).toBeGreaterThan(0)
    // Full of live locks: a newcomer's first failure locks it.
    limiter.recordFailure('early', 's')
    expect(limiter.retryAfterSec('early', 's')).toBeGreaterThan(0)
    nowMs += 2000
    expect(limiter.retryAfterSec('a', 's')).toBe(0)
    // Room again: one failure no longer locks.
    limiter.recordFailure('c', 's')
    expect(limiter.retryAfterSec('c', 's')).toBe(0)
  })
})
