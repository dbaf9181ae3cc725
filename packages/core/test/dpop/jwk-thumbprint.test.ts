import { generateKeyPairSync } from 'node:crypto'
import { jwkThumbprint } from '@oauth-m2m/core/internal'
import { calculateJwkThumbprint, type JWK } from 'jose'
import { describe, expect, it } from 'vitest'

describe('jwkThumbprint (RFC 7638)', () => {
  it('gives the RFC 7638 §3.1 example thumbprint', () => {
    const jwk = {
      kty: 'RSA',
      n: '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw',
      e: 'AQAB',
      alg: 'RS256',
      kid: '2011-04-29',
    }
    expect(jwkThumbprint(jwk)).toBe('NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs')
  })

  it('agrees with jose for EC, OKP and RSA keys and ignores optional members', async () => {
    const keys = [
      generateKeyPairSync('ec', { namedCurve: 'P-256' }),
      generateKeyPairSync('ec', { namedCurve: 'P-384' }),
      generateKeyPairSync('ec', { namedCurve: 'P-521' }),
      generateKeyPairSync('ed25519'),
      generateKeyPairSync('rsa', { modulusLength: 2048 }),
    ]
    for (const { publicKey } of keys) {
      const jwk = publicKey.export({ format: 'jwk' }) as JWK
      const expected = await calculateJwkThumbprint(jwk, 'sha256')
      expect(jwkThumbprint(jwk)).toBe(expected)
      expect(jwkThumbprint({ ...jwk, kid: 'k1', alg: 'x', use: 'sig' })).toBe(expected)
    }
  })

  it('throws a TypeError for symmetric keys, unknown types and missing members', () => {
    expect(() => jwkThumbprint({ kty: 'oct', k: 'c2VjcmV0' })).toThrow(TypeError)
    expect(() => jwkThumbprint({ kty: 'toString' })).toThrow(TypeError)
    expect(() => jwkThumbprint({})).toThrow(TypeError)
    expect(() => jwkThumbprint({ kty: 'EC', crv: 'P-256', x: 'AA' })).toThrow(/y must be/)
    expect(() => jwkThumbprint({ kty: 'RSA', n: 'AA', e: 1 })).toThrow(/e must be/)
  })
})
