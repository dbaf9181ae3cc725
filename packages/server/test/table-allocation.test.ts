/**
 * The server's bounded tables cost memory for what they hold, not for their capacity: a server
 * starts without paying for 100 000 opaque tokens, revoked and used ids and rate-limit entries it
 * may never see (a test suite starts many servers). The bounds themselves are the subject of
 * replay-store-capacity and rate-limit tests.
 */
import { MemoryServerStore } from '@oauth-m2m/server'
import { describe, expect, it } from 'vitest'
import { FailedAuthLimiter } from '../src/rate-limit.js'

const INSTANCES = 20

function allocatedBytes(): number {
  const { heapUsed, arrayBuffers } = process.memoryUsage()
  return heapUsed + arrayBuffers
}

describe('table allocation', () => {
  it('a default MemoryServerStore and rate limiter take far less than their capacity at creation', () => {
    const kept: unknown[] = []
    const before = allocatedBytes()
    for (let i = 0; i < INSTANCES; i++) {
      kept.push(new MemoryServerStore())
      kept.push(new FailedAuthLimiter({ maxFailures: 10, maxFailuresPerClient: 1000, windowMs: 60_000 }))
    }
    const perPair = (allocatedBytes() - before) / INSTANCES
    // Preallocated, one pair holds index arrays for 4 × 100 000 + 4 × 10 000 entries (over 10 MB).
    expect(perPair).toBeLessThan(200_000)
    expect(kept).toHaveLength(2 * INSTANCES)
  })

  it('a store still grows to its capacity and no further', async () => {
    const store = new MemoryServerStore({ maxOpaqueTokens: 1000 })
    const expiresAtMs = Date.now() + 60_000
    for (let i = 0; i < 1500; i++) await store.saveOpaqueToken(`h${i}`, { jti: `${i}` }, expiresAtMs)
    expect(await store.findOpaqueToken('h0')).toBeUndefined()
    expect(await store.findOpaqueToken('h499')).toBeUndefined()
    expect(await store.findOpaqueToken('h500')).toEqual({ jti: '500' })
    expect(await store.findOpaqueToken('h1499')).toEqual({ jti: '1499' })
  })
})
