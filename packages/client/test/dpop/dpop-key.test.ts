/**
 * The `dpop` option's key: generated, or the user's own, checked when the client is created.
 */
import {
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  generateKeyPairSync,
  randomBytes,
  webcrypto,
} from 'node:crypto'
import { ConfigurationError, clientSecretBasic } from '@oauth-m2m/core'
import { describe, expect, it } from 'vitest'
import { generateDpopKey, importDpopKey } from '../../src/dpop/dpop-key.js'
import { createTokenClient, type TokenClientOptions } from '../../src/index.js'

const subtle = webcrypto.subtle
const ec = () => generateKeyPairSync('ec', { namedCurve: 'P-256' })
const rsa = (modulusLength = 2048) => generateKeyPairSync('rsa', { modulusLength })

/**
 * An RSA pair whose modulus has `bits` bits, made of random components: node imports it without
 * checking them, and the size rule must refuse it before anything signs (generating a real key of
 * over 4096 bits takes seconds).
 */
function oversizedRsa(bits: number) {
  const odd = (size: number) => {
    const bytes = randomBytes(size / 8)
    bytes[0] = (bytes[0] as number) | 0x80
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) | 1
    return bytes.toString('base64url')
  }
  const n = odd(bits)
  const half = odd(bits / 2)
  const jwk = { kty: 'RSA', n, e: 'AQAB', d: odd(bits), p: half, q: half, dp: half, dq: half, qi: half }
  return {
    privateKey: createPrivateKey({ key: jwk, format: 'jwk' }),
    publicKey: createPublicKey({ key: { kty: 'RSA', n, e: 'AQAB' }, format: 'jwk' }),
  }
}

function create(dpop: unknown) {
  return createTokenClient({
    tokenEndpoint: 'https://as.example.test/token',
    clientId: 'c',
    auth: clientSecretBasic('s'),
    dpop: dpop as TokenClientOptions['dpop'],
  })
}

describe('the dpop option', () => {
  it.each([
    ['a string', 'yes', /dpop must be true, false or an object/],
    ['alg none', { alg: 'none' }, /alg must be one of ES256, EdDSA, PS256, RS256/],
    ['alg HS256', { alg: 'HS256' }, /alg must be one of/],
    ['alg ES384', { alg: 'ES384' }, /alg must be one of/],
    [
      'a non-boolean allowBearerFallback',
      { allowBearerFallback: 'yes' },
      /allowBearerFallback must be a boolean/,
    ],
    [
      'a key that is not a pair',
      { key: ec().privateKey },
      /key must be a CryptoKeyPair or \{ privateKey, publicKey \}/,
    ],
    ['a JWK', { key: { privateKey: { kty: 'EC' }, publicKey: { kty: 'EC' } } }, /both of one kind/],
    [
      'a secret key',
      {
        key: { privateKey: createSecretKey(Buffer.alloc(32)), publicKey: createSecretKey(Buffer.alloc(32)) },
      },
      /privateKey must be a private key/,
    ],
    [
      'halves swapped',
      { key: { privateKey: ec().publicKey, publicKey: ec().privateKey } },
      /privateKey must be a private key/,
    ],
    [
      'two private keys',
      { key: { privateKey: ec().privateKey, publicKey: ec().privateKey } },
      /publicKey must be a public key/,
    ],
    [
      'halves of two pairs',
      { key: { privateKey: ec().privateKey, publicKey: ec().publicKey } },
      /not the public half/,
    ],
    ['a P-384 key', { key: generateKeyPairSync('ec', { namedCurve: 'P-384' }) }, /ES256 \(P-256\)/],
    ['an RSA key under 2048 bits', { key: rsa(1024) }, /RSA key has an RSA modulus shorter than 2048 bits/],
    // Servers and verifiers refuse proofs of such keys (the cost of a check grows with the modulus).
    ['an RSA key over 4096 bits', { key: oversizedRsa(4104) }, /longer than 4096 bits/],
    ['an EC key with alg RS256', { key: ec(), alg: 'RS256' }, /alg RS256 does not match the key \(ES256\)/],
    [
      'an RSA key with alg EdDSA',
      { key: rsa(), alg: 'EdDSA' },
      /alg EdDSA does not match the key \(RS256 or PS256\)/,
    ],
    [
      'an rsa-pss KeyObject',
      { key: generateKeyPairSync('rsa-pss', { modulusLength: 2048 }) },
      /rsa-pss KeyObjects are not supported/,
    ],
    ['an x25519 key', { key: generateKeyPairSync('x25519') }, /must be an ES256/],
  ])('refuses %s with a ConfigurationError', (_, dpop, message) => {
    const create_ = () => create(dpop)
    expect(create_).toThrow(ConfigurationError)
    expect(create_).toThrow(message)
  })

  it('names what is wrong, never the key material', () => {
    const privateKey = ec().privateKey
    const publicKey = ec().publicKey
    const error = (() => {
      try {
        create({ key: { privateKey, publicKey } })
      } catch (e) {
        return e as Error
      }
    })()!
    const text = JSON.stringify({ ...error, message: error.message })
    for (const value of Object.values(privateKey.export({ format: 'jwk' }))) expect(text).not.toContain(value)
    for (const value of Object.values(publicKey.export({ format: 'jwk' }))) expect(text).not.toContain(value)
  })

  it.each([
    ['true', true],
    ['false', false],
    ['an empty object', {}],
    ['each allowed alg', { alg: 'EdDSA' }],
  ])('takes %s', (_, dpop) => {
    expect(() => create(dpop)).not.toThrow()
  })
})

describe('a generated DPoP key', () => {
  it.each(['ES256', 'EdDSA', 'PS256', 'RS256'] as const)(
    'for %s is a public JWK of the right kind and its thumbprint',
    (alg) => {
      const key = generateDpopKey(alg)
      expect(key.alg).toBe(alg)
      const kty = alg === 'ES256' ? 'EC' : alg === 'EdDSA' ? 'OKP' : 'RSA'
      expect(key.publicJwk.kty).toBe(kty)
      expect(Object.keys(key.publicJwk).sort()).toEqual(
        kty === 'EC' ? ['crv', 'kty', 'x', 'y'] : kty === 'OKP' ? ['crv', 'kty', 'x'] : ['e', 'kty', 'n'],
      )
      expect(key.jkt).toMatch(/^[A-Za-z0-9_-]{43}$/)
    },
  )

  it('is a new key for every client', () => {
    expect(generateDpopKey('ES256').jkt).not.toBe(generateDpopKey('ES256').jkt)
  })
})

describe("the user's DPoP key", () => {
  it('takes a non-extractable WebCrypto key pair and signs with the alg it was made for', async () => {
    const cases = [
      [{ name: 'ECDSA', namedCurve: 'P-256' }, 'ES256'],
      [{ name: 'Ed25519' }, 'EdDSA'],
      [
        {
          name: 'RSASSA-PKCS1-v1_5',
          modulusLength: 2048,
          publicExponent: new Uint8Array([1, 0, 1]),
          hash: 'SHA-256',
        },
        'RS256',
      ],
      [
        { name: 'RSA-PSS', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
        'PS256',
      ],
    ] as const
    for (const [algorithm, alg] of cases) {
      const pair = (await subtle.generateKey(algorithm, false, ['sign', 'verify'])) as webcrypto.CryptoKeyPair
      expect(pair.privateKey.extractable).toBe(false)
      expect(importDpopKey('t', pair, undefined).alg).toBe(alg)
      expect(() => importDpopKey('t', pair, alg === 'ES256' ? 'EdDSA' : 'ES256')).toThrow(/does not match/)
    }
  })

  it('refuses a WebCrypto RSA key made for another hash than SHA-256', async () => {
    const pair = (await subtle.generateKey(
      {
        name: 'RSASSA-PKCS1-v1_5',
        modulusLength: 2048,
        publicExponent: new Uint8Array([1, 0, 1]),
        hash: 'SHA-384',
      },
      false,
      ['sign', 'verify'],
    )) as webcrypto.CryptoKeyPair
    expect(() => importDpopKey('t', pair, undefined)).toThrow(ConfigurationError)
  })

  it('takes RSA KeyObjects as RS256 by default, and as PS256 when told', () => {
    const pair = rsa()
    expect(importDpopKey('t', pair, undefined).alg).toBe('RS256')
    expect(importDpopKey('t', pair, 'PS256').alg).toBe('PS256')
  })

  it('gives the same thumbprint for the same key, whatever its form', async () => {
    const pair = (await subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
      'sign',
      'verify',
    ])) as webcrypto.CryptoKeyPair
    const { KeyObject } = await import('node:crypto')
    const asKeyObjects = {
      privateKey: KeyObject.from(pair.privateKey),
      publicKey: KeyObject.from(pair.publicKey),
    }
    expect(importDpopKey('t', pair, undefined).jkt).toBe(importDpopKey('t', asKeyObjects, undefined).jkt)
  })
})
