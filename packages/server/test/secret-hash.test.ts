import { describe, expect, it, vi } from 'vitest'
import { SecretHasher, secretDigest } from '../src/secret-hash.js'

/** How many digests, HMACs and constant-time comparisons the hasher performed. */
const work = vi.hoisted(() => ({ hashes: 0, hmacs: 0, comparisons: 0 }))

vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:crypto')>()
  return {
    ...actual,
    hash: ((...args: Parameters<typeof actual.hash>) => {
      work.hashes++
      return actual.hash(...args)
    }) as typeof actual.hash,
    createHmac: ((...args: Parameters<typeof actual.createHmac>) => {
      work.hmacs++
      return actual.createHmac(...args)
    }) as typeof actual.createHmac,
    timingSafeEqual: ((...args: Parameters<typeof actual.timingSafeEqual>) => {
      work.comparisons++
      return actual.timingSafeEqual(...args)
    }) as typeof actual.timingSafeEqual,
  }
})

function workOf(check: () => boolean): typeof work {
  work.hashes = 0
  work.hmacs = 0
  work.comparisons = 0
  check()
  return { ...work }
}

describe('SecretHasher', () => {
  it('matches a secret against any of several stored hashes', () => {
    const hasher = new SecretHasher()
    const stored = [hasher.hashSecret('old'), hasher.hashSecret('new')]
    expect(hasher.matches('old', stored)).toBe(true)
    expect(hasher.matches('new', stored)).toBe(true)
    expect(hasher.matches('other', stored)).toBe(false)
  })

  it('treats a precomputed SHA-256 digest like the clear secret', () => {
    const hasher = new SecretHasher()
    const stored = [hasher.hashDigest(Buffer.from(secretDigest('s3cret'), 'base64url'))]
    expect(hasher.matches('s3cret', stored)).toBe(true)
    expect(hasher.matches('s3cret ', stored)).toBe(false)
  })

  it('never matches for an unknown client, whatever the secret', () => {
    const hasher = new SecretHasher()
    expect(hasher.matches('', undefined)).toBe(false)
    expect(hasher.matches('anything', undefined)).toBe(false)
  })

  it('does the same work for an unknown client as for a known one with one secret (no timing oracle)', () => {
    const hasher = new SecretHasher()
    const stored = [hasher.hashSecret('right')]
    const known = workOf(() => hasher.matches('guess', stored))
    expect(known).toEqual({ hashes: 1, hmacs: 1, comparisons: 1 })
    expect(workOf(() => hasher.matches('guess', undefined))).toEqual(known)
    expect(workOf(() => hasher.matches('right', stored))).toEqual(known)
  })

  it('keys the hash per server, so stored hashes differ between instances', () => {
    expect(new SecretHasher().hashSecret('same').equals(new SecretHasher().hashSecret('same'))).toBe(false)
  })
})
