/**
 * The one module that checks JWS signatures with `node:crypto` KeyObjects instead of jose's
 * WebCrypto path, which costs about twice as much per verification. Its verdicts are pinned to
 * jose's by a differential test (test/signature-check.differential.test.ts): whatever this accepts,
 * jose `jwtVerify` accepts, and the other way round.
 *
 * Key suitability mirrors jose's rules for a JWK: `use` must be `sig` when present, `alg` must
 * equal the token's when present, `key_ops` must include `verify` when present, the key type and
 * curve must fit the algorithm, RSA moduli must have at least 2048 bits, and private JWKs are
 * refused.
 *
 * @module signature-check
 */
import { constants, createPublicKey, type JsonWebKey, type KeyObject, verify } from 'node:crypto'
import { InvalidTokenError } from '@oauth-m2m/core'
import type { JWK } from 'jose'
import type { JwsAlgorithm } from './algorithms.js'

interface AlgorithmProfile {
  /** Digest for `crypto.verify`; `null` for EdDSA, which hashes internally. */
  digest: string | null
  kty: 'RSA' | 'EC' | 'OKP'
  /** Required `crv` of EC and OKP keys. */
  crv?: string
  /** PSS salt length in bytes, for the PS algorithms. */
  pssSaltLength?: number
  /** Exact IEEE P1363 signature length for ECDSA (r ‖ s) and EdDSA. */
  signatureLength?: number
}

const PROFILES: Record<JwsAlgorithm, AlgorithmProfile> = {
  RS256: { digest: 'sha256', kty: 'RSA' },
  RS384: { digest: 'sha384', kty: 'RSA' },
  RS512: { digest: 'sha512', kty: 'RSA' },
  PS256: { digest: 'sha256', kty: 'RSA', pssSaltLength: 32 },
  PS384: { digest: 'sha384', kty: 'RSA', pssSaltLength: 48 },
  PS512: { digest: 'sha512', kty: 'RSA', pssSaltLength: 64 },
  ES256: { digest: 'sha256', kty: 'EC', crv: 'P-256', signatureLength: 64 },
  ES384: { digest: 'sha384', kty: 'EC', crv: 'P-384', signatureLength: 96 },
  ES512: { digest: 'sha512', kty: 'EC', crv: 'P-521', signatureLength: 132 },
  EdDSA: { digest: null, kty: 'OKP', crv: 'Ed25519', signatureLength: 64 },
  Ed25519: { digest: null, kty: 'OKP', crv: 'Ed25519', signatureLength: 64 },
}

const MIN_RSA_MODULUS_BITS = 2048

// Imported once per JWK object: the JWKS cache hands out the same objects until it refetches, and
// a refetched key set brings new objects, so a replaced key never reuses a stale KeyObject.
const imported = new WeakMap<object, KeyObject | Error>()

function importKey(jwk: JWK): KeyObject {
  let key = imported.get(jwk)
  if (key === undefined) {
    try {
      key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' })
    } catch (cause) {
      key = new InvalidTokenError('the signing key published by the issuer is not a valid public key', {
        cause,
      })
    }
    imported.set(jwk, key)
  }
  if (key instanceof Error) throw key
  return key
}

function unusable(why: string): never {
  throw new InvalidTokenError(`the key matching the token cannot verify it: ${why}`)
}

function checkSuitability(jwk: JWK, alg: JwsAlgorithm, profile: AlgorithmProfile): void {
  if (jwk.use !== undefined && jwk.use !== 'sig') unusable('its "use" is not "sig"')
  if (jwk.alg !== undefined && jwk.alg !== alg) unusable('its "alg" differs from the token\'s')
  if (jwk.key_ops !== undefined) {
    const ops: unknown = jwk.key_ops
    if (!Array.isArray(ops) || ops.some((op) => typeof op !== 'string') || new Set(ops).size !== ops.length) {
      unusable('its "key_ops" is malformed')
    }
    if (!ops.includes('verify')) unusable('its "key_ops" do not include "verify"')
  }
  if (jwk.ext !== undefined && typeof jwk.ext !== 'boolean') unusable('its "ext" is not a boolean')
  if (jwk.d !== undefined || jwk.priv !== undefined) unusable('it is a private key')
  if (jwk.kty !== profile.kty) unusable('its key type does not fit the algorithm')
  if (profile.crv !== undefined && jwk.crv !== profile.crv) unusable('its curve does not fit the algorithm')
}

/**
 * Verifies a JWS signature.
 *
 * @param jwk - the issuer's public key, as the JWKS cache returned it.
 * @param alg - the token's `alg`, already checked against the allowlist.
 * @param signingInput - the ASCII bytes of `header.payload`.
 * @param signature - the decoded signature.
 * @returns whether the signature is valid.
 * @throws {InvalidTokenError} when the key cannot verify this algorithm.
 */
export function checkSignature(
  jwk: JWK,
  alg: JwsAlgorithm,
  signingInput: Uint8Array,
  signature: Uint8Array,
): boolean {
  const profile = PROFILES[alg]
  checkSuitability(jwk, alg, profile)
  const key = importKey(jwk)
  if (profile.kty === 'RSA') {
    const bits = key.asymmetricKeyDetails?.modulusLength
    if (bits === undefined || bits < MIN_RSA_MODULUS_BITS)
      unusable('its RSA modulus is shorter than 2048 bits')
  }
  if (profile.signatureLength !== undefined && signature.length !== profile.signatureLength) return false
  try {
    if (profile.pssSaltLength !== undefined) {
      return verify(
        profile.digest,
        signingInput,
        { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: profile.pssSaltLength },
        signature,
      )
    }
    if (profile.kty === 'EC') {
      return verify(profile.digest, signingInput, { key, dsaEncoding: 'ieee-p1363' }, signature)
    }
    return verify(profile.digest, signingInput, key, signature)
  } catch {
    // OpenSSL reports some malformed signatures (wrong RSA length) as errors rather than "false".
    return false
  }
}
