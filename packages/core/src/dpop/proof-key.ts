/**
 * The public key a DPoP proof carries in its `jwk` header (RFC 9449 §4.2), judged and imported
 * for node:crypto. The rules are jose's for an embedded JWK (`EmbeddedJWK`), pinned to it by the
 * differential test in test/dpop/verify-dpop-proof.differential.test.ts, plus RFC 9449 §4.3 rule 7:
 * no private key members at all, and one of ours: RSA keys of at most 4096 bits with an exponent of
 * at most 32 bits, which jose does not limit.
 *
 * @module dpop/proof-key
 */
import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto'
import { LRUCache } from 'lru-cache'
import { DPOP_ALGORITHM_PROFILES, type DpopSigningAlg } from './dpop-algorithms.js'
import { InvalidDpopProofError } from './dpop-errors.js'

// RFC 7517 §9.3 / RFC 7518 §6: the members that hold private (or symmetric) key material, and
// `priv` of the AKP key type. A proof whose jwk has any of them leaked its private key.
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k', 'priv'] as const

const MIN_RSA_MODULUS_BITS = 2048
// The cost of an RSA verification grows with the modulus and with the exponent, and a proof is
// verified before the client is authenticated: a bigger key than anyone uses (RFC 8017 keys of
// 4096 bits, e = 65537) would let anyone buy milliseconds of CPU per request for free.
const MAX_RSA_MODULUS_BITS = 4096
const MAX_RSA_EXPONENT = 2n ** 32n

/** Whether `value` is a plain JSON object (not an array, not a class instance), as jose's isObject. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (
    typeof value !== 'object' ||
    value === null ||
    Object.prototype.toString.call(value) !== '[object Object]'
  ) {
    return false
  }
  const prototype = Object.getPrototypeOf(value)
  return prototype === null || Object.getPrototypeOf(prototype) === null
}

function refuse(why: string): never {
  throw new InvalidDpopProofError(`the DPoP proof's "jwk" header ${why}`)
}

/**
 * Checks that `jwk` is a public key that may verify `alg`.
 *
 * @throws {InvalidDpopProofError} naming the rule broken.
 */
export function checkProofKey(jwk: Record<string, unknown>, alg: DpopSigningAlg): void {
  for (const member of PRIVATE_MEMBERS) {
    if (jwk[member] !== undefined) refuse('holds private key material')
  }
  const profile = DPOP_ALGORITHM_PROFILES[alg]
  if (jwk.kty !== profile.kty) refuse('has a key type that does not fit the algorithm')
  if (profile.crv !== undefined && jwk.crv !== profile.crv)
    refuse('has a curve that does not fit the algorithm')
  if (jwk.use !== undefined && jwk.use !== 'sig') refuse('has a "use" other than "sig"')
  if (jwk.alg !== undefined && jwk.alg !== alg) refuse('has an "alg" other than the proof\'s')
  if (jwk.ext !== undefined && typeof jwk.ext !== 'boolean') refuse('has an "ext" that is not a boolean')
  const ops = jwk.key_ops
  if (ops !== undefined) {
    // WebCrypto imports a public key with exactly these usages, and only "verify" is a usage of
    // a public signature key: anything else fails the import, an empty list fails the check.
    if (!Array.isArray(ops) || ops.length !== 1 || ops[0] !== 'verify')
      refuse('has "key_ops" other than ["verify"]')
  }
}

// Keyed by the RFC 7638 thumbprint, which covers exactly the members the import reads (the
// private ones are refused before), so one client's key is imported once, not on every request.
const imported = new LRUCache<string, KeyObject>({ max: 1024 })

/**
 * The node:crypto public key of a checked `jwk`, from the cache when its thumbprint was seen.
 *
 * @throws {InvalidDpopProofError} when the members do not form a valid public key of the algorithm.
 */
export function importProofKey(jwk: Record<string, unknown>, jkt: string, alg: DpopSigningAlg): KeyObject {
  let key = imported.get(jkt)
  if (key === undefined) {
    try {
      key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' })
    } catch {
      refuse('is not a valid public key')
    }
    imported.set(jkt, key)
  }
  if (DPOP_ALGORITHM_PROFILES[alg].kty === 'RSA') {
    const problem = rsaProofKeyProblem(key)
    if (problem !== undefined) refuse(problem)
  }
  return key
}

/**
 * What makes an RSA key unfit for DPoP proofs, or `undefined` when it is fit: a modulus of 2048 to
 * 4096 bits and an exponent of at most 32 bits. The one rule for the client (its own key) and for
 * the server and verifier (a proof's key), so that a client never makes proofs they refuse.
 */
export function rsaProofKeyProblem(key: KeyObject): string | undefined {
  const bits = key.asymmetricKeyDetails?.modulusLength
  if (bits === undefined || bits < MIN_RSA_MODULUS_BITS) return 'has an RSA modulus shorter than 2048 bits'
  if (bits > MAX_RSA_MODULUS_BITS) return 'has an RSA modulus longer than 4096 bits'
  const exponent = key.asymmetricKeyDetails?.publicExponent
  if (exponent === undefined || exponent >= MAX_RSA_EXPONENT) return 'has an RSA exponent longer than 32 bits'
  return undefined
}
