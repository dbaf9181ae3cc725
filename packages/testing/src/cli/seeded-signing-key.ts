/**
 * The access-token signing key of `m2m-test-server --seed`: a private JWK derived from the seed,
 * so the server's key (and its `kid`, the RFC 7638 thumbprint) is the same on every run.
 *
 * EC and Ed25519 keys: the private scalar comes from the seed and `node:crypto` computes the
 * public part from it. RSA keys: `node:crypto` cannot generate from a seed, so node-forge's key
 * generation runs on its PRNG seeded from ours (pure JavaScript, a few seconds); node-forge is
 * loaded only on this path.
 *
 * @module cli/seeded-signing-key
 */
import { createPrivateKey } from 'node:crypto'
import type { SigningAlg } from '@oauth-m2m/server'
import type { JWK } from 'jose'
import { seededBytes } from './seeded-values.js'

/** SEC 1 `ECPrivateKey` for P-256 around a 32-byte scalar; without the public key, which OpenSSL derives. */
const P256_SEC1_PREFIX = Buffer.from('30310201010420', 'hex')
const P256_SEC1_SUFFIX = Buffer.from('a00a06082a8648ce3d030107', 'hex')
/** The order of P-256's base point: a private scalar must lie in [1, n - 1] (SEC 1 §3.2.1). */
const P256_ORDER = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n
/** PKCS #8 `PrivateKeyInfo` for Ed25519 around its 32-byte private key (RFC 8410 §7). */
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex')
/** The server refuses shorter RSA keys (RFC 7518 §3.3). */
const RSA_MODULUS_BITS = 2048
const RSA_PUBLIC_EXPONENT = 0x10001
/** Candidates tried for a P-256 scalar; each fails with probability about 2^-32. */
const MAX_SCALAR_TRIES = 16

function p256Jwk(seed: string): JWK {
  for (let attempt = 0; attempt < MAX_SCALAR_TRIES; attempt++) {
    const scalar = seededBytes(seed, `signing-key ES256 ${attempt}`)
    const value = BigInt(`0x${scalar.toString('hex')}`)
    if (value === 0n || value >= P256_ORDER) continue
    const key = createPrivateKey({
      key: Buffer.concat([P256_SEC1_PREFIX, scalar, P256_SEC1_SUFFIX]),
      format: 'der',
      type: 'sec1',
    })
    return key.export({ format: 'jwk' }) as JWK
  }
  throw new Error('m2m-test-server: no P-256 key could be derived from the seed')
}

function ed25519Jwk(seed: string): JWK {
  const key = createPrivateKey({
    key: Buffer.concat([ED25519_PKCS8_PREFIX, seededBytes(seed, 'signing-key EdDSA')]),
    format: 'der',
    type: 'pkcs8',
  })
  return key.export({ format: 'jwk' }) as JWK
}

async function rsaJwk(seed: string, alg: 'RS256' | 'PS256'): Promise<JWK> {
  const { default: forge } = await import('node-forge')
  const prng = forge.random.createInstance()
  // Every reseed gets new bytes, all from the seed: the same seed replays the same generation.
  let reseeds = 0
  prng.seedFileSync = (needed: number): string => {
    const call = reseeds++
    const blocks: Buffer[] = []
    for (let block = 0; blocks.length * 32 < needed; block++) {
      blocks.push(seededBytes(seed, `signing-key ${alg} prng ${call} ${block}`))
    }
    return Buffer.concat(blocks).subarray(0, needed).toString('binary')
  }
  // With a `prng`, node-forge never hands the work to node:crypto's (unseeded) generator.
  const { privateKey } = forge.pki.rsa.generateKeyPair({
    bits: RSA_MODULUS_BITS,
    e: RSA_PUBLIC_EXPONENT,
    prng,
  })
  const pem = forge.pki.privateKeyToPem(privateKey)
  return createPrivateKey(pem).export({ format: 'jwk' }) as JWK
}

/**
 * A private signing JWK (with `alg`) derived from `seed`: the same seed and `alg` give the same
 * key, another seed another key.
 */
export async function seededSigningJwk(seed: string, alg: SigningAlg): Promise<JWK> {
  switch (alg) {
    case 'ES256':
      return { ...p256Jwk(seed), alg }
    case 'EdDSA':
      return { ...ed25519Jwk(seed), alg }
    case 'RS256':
    case 'PS256':
      return { ...(await rsaJwk(seed, alg)), alg }
  }
}
