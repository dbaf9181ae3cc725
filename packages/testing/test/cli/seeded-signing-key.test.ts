import { createPrivateKey, createPublicKey, type JsonWebKey, sign, verify } from 'node:crypto'
import type { JWK } from 'jose'
import { describe, expect, it } from 'vitest'
import { seededSigningJwk } from '../../src/cli/seeded-signing-key.js'
import { seededClientId, seededSecret } from '../../src/cli/seeded-values.js'

/** Whether `jwk`'s private part signs what its public members verify. */
function isKeyPair(jwk: JWK): boolean {
  const privateKey = createPrivateKey({ key: jwk as JsonWebKey, format: 'jwk' })
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicJwk } = jwk
  const publicKey = createPublicKey({ key: publicJwk as JsonWebKey, format: 'jwk' })
  const data = Buffer.from('seeded')
  const digest = jwk.kty === 'OKP' ? null : 'sha256'
  return verify(digest, data, publicKey, sign(digest, data, privateKey))
}

describe('seeded values', () => {
  it('are the same for the same seed and label, and differ with either', () => {
    expect(seededSecret('s1', 'client-secret a')).toBe(seededSecret('s1', 'client-secret a'))
    expect(seededSecret('s1', 'client-secret a')).toMatch(/^[\w-]{43}$/)
    expect(seededSecret('s2', 'client-secret a')).not.toBe(seededSecret('s1', 'client-secret a'))
    expect(seededSecret('s1', 'client-secret b')).not.toBe(seededSecret('s1', 'client-secret a'))
    expect(seededClientId('s1', 1)).toBe(seededClientId('s1', 1))
    expect(seededClientId('s1', 2)).not.toBe(seededClientId('s1', 1))
    expect(seededClientId('s2', 1)).not.toBe(seededClientId('s1', 1))
  })
})

describe('seededSigningJwk', () => {
  it.each(['ES256', 'EdDSA'] as const)(
    'derives the same %s key pair from the same seed, another from another seed',
    async (alg) => {
      const first = await seededSigningJwk('seed-1', alg)
      expect(await seededSigningJwk('seed-1', alg)).toEqual(first)
      expect((await seededSigningJwk('seed-2', alg)).d).not.toBe(first.d)
      expect(first.alg).toBe(alg)
      expect(isKeyPair(first)).toBe(true)
    },
  )

  it('derives the same RSA key pair from the same seed, another from another seed', async () => {
    // Seeds whose key generation needs few prime candidates: the work per seed is fixed.
    const first = await seededSigningJwk('seed-4', 'RS256')
    expect(await seededSigningJwk('seed-4', 'RS256')).toEqual(first)
    const other = await seededSigningJwk('b', 'RS256')
    expect(other.n).not.toBe(first.n)
    expect(first).toMatchObject({ kty: 'RSA', e: 'AQAB', alg: 'RS256' })
    expect(Buffer.from(first.n!, 'base64url').length * 8).toBe(2048)
    expect(isKeyPair(first)).toBe(true)
  }, 120_000)
})
