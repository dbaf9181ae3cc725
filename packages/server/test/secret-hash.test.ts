import { describe, expect, it } from 'vitest'
import { SecretHasher, secretDigest } from '../src/secret-hash.js'

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

  it('keys the hash per server, so stored hashes differ between instances', () => {
    expect(new SecretHasher().hashSecret('same').equals(new SecretHasher().hashSecret('same'))).toBe(false)
  })
})
