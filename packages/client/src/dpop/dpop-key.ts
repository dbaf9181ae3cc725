/**
 * The key a DPoP client proves possession of (RFC 9449): generated at start, or the user's own
 * (a WebCrypto `CryptoKeyPair` or a pair of `node:crypto` `KeyObject`s), checked once when the
 * client is created, and reduced to what signing needs: the private key, the algorithm, the public
 * JWK (public members only) and its RFC 7638 thumbprint.
 *
 * @module dpop/dpop-key
 */
import { createPublicKey, generateKeyPairSync, KeyObject, type webcrypto } from 'node:crypto'
import { ConfigurationError } from '@oauth-m2m/core'
import { jwkThumbprint, rsaProofKeyProblem } from '@oauth-m2m/core/internal'

/**
 * The JWS algorithms a DPoP proof can be signed with: asymmetric only (RFC 9449 §4.2 forbids
 * `none` and MACs). `ES256` is the default: small proofs, fast signing, and the one every DPoP
 * server supports.
 */
export const DPOP_PROOF_ALGS = ['ES256', 'EdDSA', 'PS256', 'RS256'] as const

/** A DPoP proof's `alg`: one of {@link DPOP_PROOF_ALGS}. */
export type DpopProofAlg = (typeof DPOP_PROOF_ALGS)[number]

/** The user's own DPoP key: a WebCrypto key pair, or a private and a public `node:crypto` `KeyObject`. */
export type DpopKeyPair = webcrypto.CryptoKeyPair | { privateKey: KeyObject; publicKey: KeyObject }

/** A public JWK of a DPoP key: the members RFC 7517/7518 define for the public key, nothing else. */
export type DpopPublicJwk =
  | { kty: 'EC'; crv: string; x: string; y: string }
  | { kty: 'OKP'; crv: string; x: string }
  | { kty: 'RSA'; n: string; e: string }

/** A checked DPoP key. */
export interface DpopKey {
  readonly alg: DpopProofAlg
  /** The private key, only ever used to sign. */
  readonly privateKey: KeyObject
  /** The public key as the proof's `jwk` header carries it. */
  readonly publicJwk: DpopPublicJwk
  /** RFC 7638 thumbprint of {@link DpopKey.publicJwk} (the token's `cnf.jkt`). */
  readonly jkt: string
}

/** Modulus of the RSA keys `dpop: true` generates, in bits: the smallest that RFC 7518 §3.3 and servers accept. */
const GENERATED_RSA_BITS = 2048

function fail(where: string, message: string): never {
  throw new ConfigurationError(`${where}: ${message}`)
}

function isCryptoKey(value: unknown): value is webcrypto.CryptoKey {
  return (
    typeof value === 'object' &&
    value !== null &&
    'algorithm' in value &&
    'usages' in value &&
    'extractable' in value &&
    'type' in value
  )
}

/** The algorithm a WebCrypto key was made for, as a JWS `alg`, or `undefined` for any other. */
function cryptoKeyAlg(key: webcrypto.CryptoKey): DpopProofAlg | undefined {
  const algorithm = key.algorithm as { name: string; namedCurve?: string; hash?: { name: string } }
  if (algorithm.name === 'ECDSA') return algorithm.namedCurve === 'P-256' ? 'ES256' : undefined
  if (algorithm.name === 'Ed25519') return 'EdDSA'
  if (algorithm.hash?.name !== 'SHA-256') return undefined
  if (algorithm.name === 'RSASSA-PKCS1-v1_5') return 'RS256'
  if (algorithm.name === 'RSA-PSS') return 'PS256'
  return undefined
}

/** The algorithms a `KeyObject` can sign for. */
function keyObjectAlgs(key: KeyObject): readonly DpopProofAlg[] {
  const details = key.asymmetricKeyDetails
  switch (key.asymmetricKeyType) {
    case 'ec':
      return details?.namedCurve === 'prime256v1' ? ['ES256'] : []
    case 'ed25519':
      return ['EdDSA']
    case 'rsa':
      // RS256 first: a plain RSA key with no alg named is taken as PKCS#1 v1.5, the common case.
      return ['RS256', 'PS256']
    default:
      return []
  }
}

const KEY_KINDS =
  'an ES256 (P-256), EdDSA (Ed25519), PS256 or RS256 (RSA, at least 2048 bits) key; rsa-pss KeyObjects are not supported, give an rsa one with alg PS256'

/** The key's public members, in the JWK form; never a private member. */
function publicJwkOf(publicKey: KeyObject): DpopPublicJwk {
  const jwk = publicKey.export({ format: 'jwk' })
  if (jwk.kty === 'EC') return { kty: 'EC', crv: jwk.crv!, x: jwk.x!, y: jwk.y! }
  if (jwk.kty === 'OKP') return { kty: 'OKP', crv: jwk.crv!, x: jwk.x! }
  return { kty: 'RSA', n: jwk.n!, e: jwk.e! }
}

function samePublicKey(a: DpopPublicJwk, b: DpopPublicJwk): boolean {
  return jwkThumbprint(a) === jwkThumbprint(b)
}

/** The two halves as `KeyObject`s, each checked for its kind, and the alg the pair was made for. */
function keyObjectsOf(
  where: string,
  pair: unknown,
): { privateKey: KeyObject; publicKey: KeyObject; madeFor: DpopProofAlg | undefined } {
  if (typeof pair !== 'object' || pair === null || !('privateKey' in pair) || !('publicKey' in pair)) {
    fail(where, 'key must be a CryptoKeyPair or { privateKey, publicKey } KeyObjects')
  }
  const { privateKey, publicKey } = pair as { privateKey: unknown; publicKey: unknown }
  if (isCryptoKey(privateKey) && isCryptoKey(publicKey)) {
    if (privateKey.type !== 'private') fail(where, 'key.privateKey must be a private key')
    if (publicKey.type !== 'public') fail(where, 'key.publicKey must be a public key')
    if (!privateKey.usages.includes('sign')) fail(where, "key.privateKey must allow the 'sign' usage")
    const madeFor = cryptoKeyAlg(privateKey)
    if (madeFor === undefined || cryptoKeyAlg(publicKey) !== madeFor) fail(where, `key must be ${KEY_KINDS}`)
    // A non-extractable CryptoKey still has a KeyObject view: node:crypto signs with it directly.
    return { privateKey: KeyObject.from(privateKey), publicKey: KeyObject.from(publicKey), madeFor }
  }
  if (privateKey instanceof KeyObject && publicKey instanceof KeyObject) {
    if (privateKey.type !== 'private') fail(where, 'key.privateKey must be a private key')
    if (publicKey.type !== 'public') fail(where, 'key.publicKey must be a public key')
    return { privateKey, publicKey, madeFor: undefined }
  }
  return fail(where, 'key must be a CryptoKeyPair or { privateKey, publicKey } KeyObjects, both of one kind')
}

/**
 * Checks the user's key pair: a private and a public key of one asymmetric pair, of a kind that
 * can sign with `alg` (default: what the key was made for, or RS256 for a plain RSA KeyObject).
 *
 * @param where Who asks, for the error message (`createTokenClient: dpop`).
 * @throws {ConfigurationError} naming what is wrong, never the key material.
 */
export function importDpopKey(where: string, pair: unknown, alg: DpopProofAlg | undefined): DpopKey {
  const { privateKey, publicKey, madeFor } = keyObjectsOf(where, pair)
  const algs = keyObjectAlgs(privateKey)
  if (algs.length === 0 || publicKey.asymmetricKeyType !== privateKey.asymmetricKeyType) {
    fail(where, `key must be ${KEY_KINDS}`)
  }
  // The servers' and verifiers' own rule: a key they would refuse must fail here, at creation.
  const rsaProblem = privateKey.asymmetricKeyType === 'rsa' ? rsaProofKeyProblem(publicKey) : undefined
  if (rsaProblem !== undefined) fail(where, `the RSA key ${rsaProblem}`)
  const chosen = alg ?? madeFor ?? algs[0]!
  if (!algs.includes(chosen) || (madeFor !== undefined && madeFor !== chosen)) {
    fail(where, `alg ${chosen} does not match the key (${madeFor ?? algs.join(' or ')})`)
  }
  const publicJwk = publicJwkOf(publicKey)
  if (!samePublicKey(publicJwkOf(createPublicKey(privateKey)), publicJwk)) {
    fail(where, 'key.publicKey is not the public half of key.privateKey')
  }
  return Object.freeze({ alg: chosen, privateKey, publicJwk, jkt: jwkThumbprint(publicJwk) })
}

/**
 * Generates a key pair for `alg` in this process. The private key is held by the client only: no
 * API returns, exports or logs it, so it lives and dies with the process. RSA keys (2048 bits)
 * take a noticeable 0.1–0.3 s of CPU to generate; EC and Ed25519 keys well under 1 ms.
 */
export function generateDpopKey(alg: DpopProofAlg): DpopKey {
  const pair =
    alg === 'ES256'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : alg === 'EdDSA'
        ? generateKeyPairSync('ed25519')
        : generateKeyPairSync('rsa', { modulusLength: GENERATED_RSA_BITS })
  const publicJwk = publicJwkOf(pair.publicKey)
  return Object.freeze({ alg, privateKey: pair.privateKey, publicJwk, jkt: jwkThumbprint(publicJwk) })
}
