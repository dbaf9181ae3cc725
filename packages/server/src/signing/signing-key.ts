/**
 * One access-token signing key: the algorithms the server signs with, generating a key pair for
 * one, and importing a configured private JWK after checking that it can sign what it claims to.
 *
 * @module signing-key
 */
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPair,
  type JsonWebKey,
  type KeyObject,
  randomBytes,
  sign,
  verify,
} from 'node:crypto'
import { promisify } from 'node:util'
import { ConfigurationError } from '@oauth-m2m/core'
import type { JWK } from 'jose'

/** The JWS algorithms the server signs access tokens with (RFC 7518 §3, RFC 8037), in the order messages list them. */
export const SIGNING_ALGS = ['ES256', 'RS256', 'PS256', 'EdDSA'] as const

/** A JWS algorithm the server signs access tokens with: one of {@link SIGNING_ALGS}. */
export type SigningAlg = (typeof SIGNING_ALGS)[number]

/** One signing key pair with its published identity. */
export interface SigningKey {
  /** Key id: the RFC 7638 thumbprint of the public key, or the `kid` given in the configuration. */
  readonly kid: string
  /** The one algorithm this key signs with. */
  readonly alg: SigningAlg
  /** The private half; never leaves the process. */
  readonly privateKey: KeyObject
  /** The public half, used to verify the server's own tokens. */
  readonly publicKey: KeyObject
  /** The public JWK as published on `/jwks`, with `kid`, `use: 'sig'` and `alg`. */
  readonly publicJwk: JWK
}

/** RSA keys shorter than this are refused (RFC 7518 §3.3, §3.5). */
const MIN_RSA_MODULUS_BITS = 2048

const generateKeyPairAsync = promisify(generateKeyPair)

/** Whether `value` is one of {@link SIGNING_ALGS}. */
export function isSigningAlg(value: unknown): value is SigningAlg {
  return typeof value === 'string' && (SIGNING_ALGS as readonly string[]).includes(value)
}

/**
 * Throws unless `value` is one of {@link SIGNING_ALGS}.
 *
 * @param where What the message names as holding the value (`signing alg`, `signing keys[1].alg`).
 * @throws {ConfigurationError} listing the supported algorithms.
 */
export function assertSigningAlg(value: unknown, where: string): asserts value is SigningAlg {
  if (!isSigningAlg(value)) throw new ConfigurationError(`${where} must be one of ${SIGNING_ALGS.join(', ')}`)
}

async function generate(alg: SigningAlg): Promise<{ privateKey: KeyObject; publicKey: KeyObject }> {
  switch (alg) {
    case 'ES256':
      return generateKeyPairAsync('ec', { namedCurve: 'P-256' })
    case 'RS256':
    case 'PS256':
      return generateKeyPairAsync('rsa', { modulusLength: MIN_RSA_MODULUS_BITS })
    case 'EdDSA':
      return generateKeyPairAsync('ed25519')
  }
}

/** Whether a key of this shape can sign with `alg`. */
function keyFitsAlg(alg: SigningAlg, key: KeyObject): boolean {
  const details = key.asymmetricKeyDetails
  switch (alg) {
    case 'ES256':
      return key.asymmetricKeyType === 'ec' && details?.namedCurve === 'prime256v1'
    case 'RS256':
    case 'PS256':
      return key.asymmetricKeyType === 'rsa'
    case 'EdDSA':
      return key.asymmetricKeyType === 'ed25519'
  }
}

/** The algorithm a configured key signs with when its JWK does not say. */
function inferAlg(jwk: JWK, preferred: SigningAlg | undefined): SigningAlg | undefined {
  if (jwk.kty === 'EC') return 'ES256'
  if (jwk.kty === 'OKP') return 'EdDSA'
  if (jwk.kty === 'RSA') return preferred === 'PS256' ? 'PS256' : 'RS256'
  return undefined
}

async function toSigningKey(
  alg: SigningAlg,
  privateKey: KeyObject,
  publicKey: KeyObject,
  configuredKid?: string,
): Promise<SigningKey> {
  const exported = publicKey.export({ format: 'jwk' }) as JWK
  const kid =
    configuredKid ?? (await (await import('jose/jwk/thumbprint')).calculateJwkThumbprint(exported, 'sha256'))
  const publicJwk: JWK = { ...exported, kid, use: 'sig', alg }
  return Object.freeze({ kid, alg, privateKey, publicKey, publicJwk: Object.freeze(publicJwk) })
}

/**
 * Imports the configured private JWK at `index` of the signing keys.
 *
 * @param preferred The configured `signing.alg`, which decides between RS256 and PS256 for an RSA
 *   key whose JWK has no `alg`.
 * @throws ConfigurationError when the JWK is not a private key of a supported type, its `alg` does
 *   not fit its `kty`/`crv`, or its private part does not belong to its public members.
 */
export async function importSigningKey(
  jwk: unknown,
  index: number,
  preferred: SigningAlg | undefined,
): Promise<SigningKey> {
  const where = `signing keys[${index}]`
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) {
    throw new ConfigurationError(`${where} must be a JWK object`)
  }
  const candidate = jwk as JWK
  if (candidate.kty !== 'EC' && candidate.kty !== 'RSA' && candidate.kty !== 'OKP') {
    throw new ConfigurationError(`${where}.kty must be "EC", "RSA" or "OKP"`)
  }
  if (typeof candidate.d !== 'string' || candidate.d === '') {
    throw new ConfigurationError(`${where} must be a private key (it has no "d")`)
  }
  if (candidate.use !== undefined && candidate.use !== 'sig') {
    throw new ConfigurationError(`${where}.use must be "sig" when present`)
  }
  if (
    candidate.key_ops !== undefined &&
    !(Array.isArray(candidate.key_ops) && candidate.key_ops.includes('sign'))
  ) {
    throw new ConfigurationError(`${where}.key_ops must include "sign" when present`)
  }
  if (candidate.kid !== undefined && (typeof candidate.kid !== 'string' || candidate.kid === '')) {
    throw new ConfigurationError(`${where}.kid must be a non-empty string when present`)
  }
  if (candidate.alg !== undefined) assertSigningAlg(candidate.alg, `${where}.alg`)
  const alg = candidate.alg ?? inferAlg(candidate, preferred)
  if (alg === undefined) throw new ConfigurationError(`${where}.kty does not fit any supported algorithm`)

  let privateKey: KeyObject
  try {
    privateKey = createPrivateKey({ key: candidate as JsonWebKey, format: 'jwk' })
  } catch (cause) {
    throw new ConfigurationError(`${where} is not a valid private ${candidate.kty} JWK`, { cause })
  }
  if (!keyFitsAlg(alg, privateKey)) {
    const expected =
      alg === 'ES256' ? 'an EC P-256 key' : alg === 'EdDSA' ? 'an OKP Ed25519 key' : 'an RSA key'
    throw new ConfigurationError(`${where}: alg ${alg} needs ${expected}`)
  }
  const modulusLength = privateKey.asymmetricKeyDetails?.modulusLength
  if (privateKey.asymmetricKeyType === 'rsa' && (modulusLength ?? 0) < MIN_RSA_MODULUS_BITS) {
    throw new ConfigurationError(`${where}: RSA keys must have at least ${MIN_RSA_MODULUS_BITS} bits`)
  }
  return toSigningKey(alg, privateKey, declaredPublicKey(candidate, privateKey, where), candidate.kid)
}

/**
 * The public key the JWK declares, after checking that its private part belongs to it: node
 * imports an EC JWK whose `d` does not match `x`/`y` without complaint, and such a key would
 * sign tokens that fail verification against the published key.
 */
function declaredPublicKey(jwk: JWK, privateKey: KeyObject, where: string): KeyObject {
  const members =
    jwk.kty === 'RSA'
      ? { kty: jwk.kty, n: jwk.n, e: jwk.e }
      : { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y }
  let publicKey: KeyObject
  try {
    publicKey = createPublicKey({ key: JSON.parse(JSON.stringify(members)) as JsonWebKey, format: 'jwk' })
  } catch (cause) {
    throw new ConfigurationError(`${where} has invalid public members`, { cause })
  }
  // A pairwise consistency test (as FIPS 140 does at key import), not a JWS operation.
  const probe = randomBytes(32)
  const digest = privateKey.asymmetricKeyType === 'ed25519' ? null : 'sha256'
  if (!verify(digest, probe, publicKey, sign(digest, probe, privateKey))) {
    throw new ConfigurationError(`${where}: the private key does not belong to the public key it declares`)
  }
  return publicKey
}

/** A new key pair for `alg`, its `kid` the RFC 7638 thumbprint of the public key. */
export async function generateSigningKey(alg: SigningAlg): Promise<SigningKey> {
  const pair = await generate(alg)
  return toSigningKey(alg, pair.privateKey, pair.publicKey)
}
