/**
 * Checking a DPoP proof (RFC 9449 §4.3) for a token endpoint or a resource server. Everything but
 * replay: the caller records `jti` in its own store for the window the proof is accepted in.
 *
 * @module dpop/verify-dpop-proof
 */
import { constants, verify } from 'node:crypto'
import { accessTokenHash } from './access-token-hash.js'
import { DPOP_ALGORITHM_PROFILES, DPOP_SIGNING_ALGS, type DpopSigningAlg } from './dpop-algorithms.js'
import { InvalidDpopProofError, UseDpopNonceError } from './dpop-errors.js'
import { normalizeHtu } from './htu.js'
import { jwkThumbprint } from './jwk-thumbprint.js'
import { checkProofKey, importProofKey, isPlainObject } from './proof-key.js'

/** Default `iatWindowSec` of a DPoP proof check: how far a proof's `iat` may be from now, in seconds. */
export const DEFAULT_DPOP_IAT_WINDOW_SEC = 60

/**
 * Longest proof accepted, in characters. An RSA-4096 proof with every claim is under 2 000; the
 * cap keeps a hostile header from costing more than a glance.
 */
export const MAX_DPOP_PROOF_LENGTH = 8192

/**
 * Longest `jti` accepted, in characters. RFC 9449 asks for 96 bits of randomness (16 characters
 * of base64url); the cap bounds what a replay store keeps per proof.
 */
export const MAX_DPOP_JTI_LENGTH = 256

/** What a proof must match: the request it came with, and the server's policy. */
export interface DpopProofExpectations {
  /** The request's HTTP method, compared exactly with `htm` (methods are case-sensitive). */
  method: string
  /**
   * The URL the client sent the request to, as the client named it (behind a proxy: the public
   * URL, not the one the proxy forwarded to). Compared with `htu` by {@link normalizeHtu}, so
   * query and fragment do not count.
   */
  url: string | URL
  /**
   * The access token the proof comes with, at a resource server: `ath` must then be present and
   * be its hash (RFC 9449 §4.3 rule 12). Leave out at a token endpoint, where `ath` is not read.
   */
  accessToken?: string | undefined
  /** Algorithms accepted. Default {@link DPOP_SIGNING_ALGS}. */
  algorithms?: ReadonlySet<string> | readonly string[] | undefined
  /** Now, in seconds since the epoch (fractions are dropped). */
  nowSec: number
  /**
   * How far `iat` may be from now, in seconds, in either direction: older proofs are stale,
   * newer ones come from a clock too far ahead. Default 60.
   */
  iatWindowSec?: number | undefined
  /**
   * The server's nonce policy (RFC 9449 §8, §9), when it gives nonces: called with the proof's
   * `nonce` (`undefined` when it has none); `false` refuses the proof with `UseDpopNonceError`.
   * Run last, so a client is only asked for a nonce by a proof that is otherwise valid. Default:
   * nonces are not checked.
   */
  nonce?: ((nonce: string | undefined) => boolean) | undefined
}

/** A proof that passed every check. */
export interface VerifiedDpopProof {
  /** RFC 7638 thumbprint of the proof's key: what `cnf.jkt` must equal. */
  jkt: string
  /** The proof's `jti`, for the replay store. */
  jti: string
  /** The proof's `iat`, in seconds since the epoch. */
  iatSec: number
  /** The proof's `nonce`, when it has one. */
  nonce: string | undefined
  /** The public key the proof was signed with (its `jwk` header). */
  jwk: Readonly<Record<string, unknown>>
  /** The whole protected header. */
  header: Readonly<Record<string, unknown>>
  /** The whole claims set. */
  claims: Readonly<Record<string, unknown>>
}

const DEFAULT_ALGORITHMS: ReadonlySet<string> = new Set(DPOP_SIGNING_ALGS)
// RFC 7515 §7.1 with RFC 7515 §2's base64url (no padding): three non-empty segments.
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/
const strictUtf8 = new TextDecoder('utf-8', { fatal: true })
const DPOP_TYP = 'application/dpop+jwt'

function invalid(message: string): never {
  throw new InvalidDpopProofError(message)
}

// A segment of 4n+1 characters cannot be base64url; Buffer would decode it anyway, jose would not.
function decodeSegment(segment: string): Buffer {
  if (segment.length % 4 === 1) invalid('the DPoP proof is not a well-formed JWT')
  return Buffer.from(segment, 'base64url')
}

function decodeJson(segment: string, part: string): Record<string, unknown> {
  let value: unknown
  try {
    value = JSON.parse(strictUtf8.decode(decodeSegment(segment)))
  } catch (cause) {
    if (cause instanceof InvalidDpopProofError) throw cause
    invalid(`the DPoP proof's ${part} is not a JSON object`)
  }
  if (!isPlainObject(value)) invalid(`the DPoP proof's ${part} is not a JSON object`)
  return value
}

// jose's normalisation of media types, so `DPoP+JWT` and `application/dpop+jwt` are the same type.
function isDpopTyp(typ: unknown): boolean {
  if (typeof typ !== 'string') return false
  const lower = typ.toLowerCase()
  return (lower.includes('/') ? lower : `application/${lower}`) === DPOP_TYP
}

// RFC 7515 §4.1.11, as jose reads it: `b64` (RFC 7797) is the one extension understood, and a
// JWT may not use an unencoded payload.
function checkCrit(header: Record<string, unknown>): void {
  const crit = header.crit
  if (crit === undefined) return
  if (
    !Array.isArray(crit) ||
    crit.length === 0 ||
    crit.some((name) => typeof name !== 'string' || name === '')
  ) {
    invalid('the DPoP proof\'s "crit" header is malformed')
  }
  for (const name of crit as string[]) {
    if (name !== 'b64') invalid('the DPoP proof requires a header extension this server does not understand')
  }
  if (typeof header.b64 !== 'boolean') invalid('the DPoP proof\'s "b64" header is not a boolean')
  if (!header.b64) invalid('the DPoP proof uses an unencoded payload ("b64": false)')
}

function checkSignature(alg: DpopSigningAlg, jwk: Record<string, unknown>, jkt: string, proof: string): void {
  const profile = DPOP_ALGORITHM_PROFILES[alg]
  const key = importProofKey(jwk, jkt, alg)
  const lastDot = proof.lastIndexOf('.')
  const signature = decodeSegment(proof.slice(lastDot + 1))
  let valid = false
  if (profile.signatureLength === undefined || signature.length === profile.signatureLength) {
    const input = Buffer.from(proof.slice(0, lastDot), 'latin1')
    try {
      if (profile.pssSaltLength !== undefined) {
        valid = verify(
          profile.digest,
          input,
          { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: profile.pssSaltLength },
          signature,
        )
      } else if (profile.kty === 'EC') {
        valid = verify(profile.digest, input, { key, dsaEncoding: 'ieee-p1363' }, signature)
      } else {
        valid = verify(profile.digest, input, key, signature)
      }
    } catch {
      // OpenSSL reports some malformed signatures (wrong RSA length) as errors rather than "false".
      valid = false
    }
  }
  if (!valid) invalid("the DPoP proof's signature is not valid")
}

function numericDate(claims: Record<string, unknown>, name: string): number | undefined {
  const value = claims[name]
  if (value === undefined) return undefined
  if (typeof value !== 'number' || !Number.isFinite(value))
    invalid(`the DPoP proof's "${name}" is not a number`)
  return value
}

function requiredString(claims: Record<string, unknown>, name: string): string {
  const value = claims[name]
  if (value === undefined) invalid(`the DPoP proof has no "${name}" claim`)
  if (typeof value !== 'string' || value === '')
    invalid(`the DPoP proof's "${name}" is not a non-empty string`)
  return value
}

function checkExpectations(expect: DpopProofExpectations): void {
  if (typeof expect !== 'object' || expect === null)
    throw new TypeError('verifyDpopProof: expectations are required')
  if (typeof expect.method !== 'string' || expect.method === '') {
    throw new TypeError('verifyDpopProof: method must be a non-empty string')
  }
  if (typeof expect.nowSec !== 'number' || !Number.isFinite(expect.nowSec)) {
    throw new TypeError('verifyDpopProof: nowSec must be a finite number')
  }
  const window = expect.iatWindowSec
  if (window !== undefined && (typeof window !== 'number' || !Number.isFinite(window) || window < 0)) {
    throw new TypeError('verifyDpopProof: iatWindowSec must be a non-negative number')
  }
}

/**
 * Checks a DPoP proof per RFC 9449 §4.3, all but replay: a single well-formed compact JWS of at
 * most {@link MAX_DPOP_PROOF_LENGTH} characters; `typ` `dpop+jwt`; an allowed asymmetric `alg`;
 * a public `jwk` with no private member, fit for `alg`; a valid signature by that key; `jti`
 * (at most {@link MAX_DPOP_JTI_LENGTH} characters), `htm`, `htu` and `iat` present; `htm` equal
 * to the method; `htu` naming the URL (without query and fragment, normalised); `iat` within
 * `iatWindowSec` of now either way; `exp` and `nbf`, if a client added them, respected; `ath` the
 * hash of the access token when one is given; then the nonce policy. The caller then checks the
 * thumbprint against `cnf.jkt` (resource server) and records `jti` (replay).
 *
 * Synchronous: the signature is checked with node:crypto, with keys imported once per thumbprint.
 *
 * @param proof - the `DPoP` header value.
 * @throws {InvalidDpopProofError} naming the first rule broken; never quoting the proof.
 * @throws {UseDpopNonceError} the proof is valid but `expect.nonce` refused its nonce.
 * @throws {TypeError} `expect` itself is malformed (a programming error, not a bad proof).
 */
export function verifyDpopProof(proof: unknown, expect: DpopProofExpectations): VerifiedDpopProof {
  checkExpectations(expect)
  const expectedHtu = normalizeHtu(expect.url)
  if (expectedHtu === undefined) throw new TypeError('verifyDpopProof: url must be an absolute http(s) URL')
  if (typeof proof !== 'string' || proof === '') invalid('the request carries no DPoP proof')
  if (proof.length > MAX_DPOP_PROOF_LENGTH)
    invalid(`the DPoP proof is longer than ${MAX_DPOP_PROOF_LENGTH} characters`)
  if (!COMPACT_JWS.test(proof)) invalid('the DPoP proof is not a well-formed JWT')

  const firstDot = proof.indexOf('.')
  const header = decodeJson(proof.slice(0, firstDot), 'header')
  const alg = header.alg
  if (typeof alg !== 'string' || alg === '') invalid('the DPoP proof has no "alg" header')
  const allowed =
    expect.algorithms === undefined
      ? DEFAULT_ALGORITHMS
      : expect.algorithms instanceof Set
        ? expect.algorithms
        : new Set(expect.algorithms)
  if (!allowed.has(alg) || !Object.hasOwn(DPOP_ALGORITHM_PROFILES, alg)) {
    invalid('the DPoP proof is signed with an algorithm that is not allowed')
  }
  checkCrit(header)
  const jwk = header.jwk
  if (!isPlainObject(jwk)) invalid('the DPoP proof has no "jwk" header holding a JSON object')
  checkProofKey(jwk, alg as DpopSigningAlg)
  const jkt = jwkThumbprintOf(jwk)
  checkSignature(alg as DpopSigningAlg, jwk, jkt, proof)

  if (!isDpopTyp(header.typ)) invalid('the DPoP proof\'s "typ" header is not dpop+jwt')
  const claims = decodeJson(proof.slice(firstDot + 1, proof.lastIndexOf('.')), 'claims')
  const nowSec = Math.floor(expect.nowSec)
  const iat = numericDate(claims, 'iat')
  const nbf = numericDate(claims, 'nbf')
  if (nbf !== undefined && nbf > nowSec) invalid('the DPoP proof is not valid yet ("nbf" is in the future)')
  const exp = numericDate(claims, 'exp')
  if (exp !== undefined && exp <= nowSec) invalid('the DPoP proof has expired ("exp")')

  const jti = requiredString(claims, 'jti')
  if (jti.length > MAX_DPOP_JTI_LENGTH)
    invalid(`the DPoP proof's "jti" is longer than ${MAX_DPOP_JTI_LENGTH} characters`)
  const htm = requiredString(claims, 'htm')
  const htu = requiredString(claims, 'htu')
  if (iat === undefined) invalid('the DPoP proof has no "iat" claim')
  if (htm !== expect.method) invalid('the DPoP proof\'s "htm" is not the method of this request')
  if (normalizeHtu(htu) !== expectedHtu)
    invalid('the DPoP proof\'s "htu" does not name the URL of this request')
  const window = expect.iatWindowSec ?? DEFAULT_DPOP_IAT_WINDOW_SEC
  if (iat < nowSec - window) invalid('the DPoP proof is too old ("iat")')
  if (iat > nowSec + window) invalid('the DPoP proof was issued in the future ("iat")')
  if (expect.accessToken !== undefined) {
    const ath = claims.ath
    if (ath === undefined) invalid('the DPoP proof has no "ath" claim for the access token')
    if (ath !== accessTokenHash(expect.accessToken))
      invalid('the DPoP proof\'s "ath" is not the hash of the access token')
  }
  const nonce = claims.nonce
  if (nonce !== undefined && typeof nonce !== 'string') invalid('the DPoP proof\'s "nonce" is not a string')
  if (expect.nonce !== undefined && !expect.nonce(nonce)) {
    throw new UseDpopNonceError(
      nonce === undefined
        ? 'the DPoP proof has no nonce; use the one in DPoP-Nonce'
        : "the DPoP proof's nonce is not (or no longer) accepted",
    )
  }
  return { jkt, jti, iatSec: iat, nonce, jwk, header, claims }
}

// The jwk passed checkProofKey, so its required members are present as the key type demands,
// except that their values may be of any type: those are refused here, as jose's import would.
function jwkThumbprintOf(jwk: Record<string, unknown>): string {
  try {
    return jwkThumbprint(jwk)
  } catch {
    return invalid('the DPoP proof\'s "jwk" header is not a valid public key')
  }
}
