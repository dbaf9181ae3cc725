/**
 * Choosing the key of a JWK Set that may verify a JWS with a given header.
 *
 * @module jwk-match
 */
import type { JWK } from 'jose'

/** The JWS header members that select a key. */
export interface JwsKeyHint {
  /** Key id from the JWS header. */
  kid?: string | undefined
  /** Algorithm from the JWS header. */
  alg?: string | undefined
}

/** What {@link selectJwk} found: the key, or why there is none. */
export type JwkSelection = { key: JWK } | { key?: undefined; problem: 'none' | 'ambiguous' }

/**
 * The key type (and curve) each asymmetric JWS algorithm needs (RFC 7518 §3.1, RFC 8037 §3.1,
 * RFC 8812 §3.2). Symmetric algorithms and `none` are absent on purpose: a public key set never
 * verifies them.
 */
const KEY_TYPE_OF_ALG: Record<string, { kty: string; crv?: readonly string[] }> = {
  RS256: { kty: 'RSA' },
  RS384: { kty: 'RSA' },
  RS512: { kty: 'RSA' },
  PS256: { kty: 'RSA' },
  PS384: { kty: 'RSA' },
  PS512: { kty: 'RSA' },
  ES256: { kty: 'EC', crv: ['P-256'] },
  ES384: { kty: 'EC', crv: ['P-384'] },
  ES512: { kty: 'EC', crv: ['P-521'] },
  ES256K: { kty: 'EC', crv: ['secp256k1'] },
  EdDSA: { kty: 'OKP', crv: ['Ed25519', 'Ed448'] },
  Ed25519: { kty: 'OKP', crv: ['Ed25519'] },
}

/**
 * Whether `key` may verify a signature made with `alg`: its `kty` (and `crv`) fit the algorithm,
 * its own `alg`, when set, is the same, and its `key_ops`, when set, allow `verify`. Without an
 * `alg` only `key_ops` is checked.
 */
export function isJwkCompatible(key: JWK, alg: string | undefined): boolean {
  if (key.key_ops !== undefined && !key.key_ops.includes('verify')) return false
  if (alg === undefined) return true
  const needed = KEY_TYPE_OF_ALG[alg]
  if (needed === undefined || key.kty !== needed.kty) return false
  if (needed.crv !== undefined && (key.crv === undefined || !needed.crv.includes(key.crv))) return false
  return key.alg === undefined || key.alg === alg
}

/**
 * Selects the one key of `keys` that matches `hint`: with a `kid`, the compatible key with that
 * `kid`; without one, the single compatible key of the set. More than one candidate is
 * `ambiguous`, none is `none`.
 */
export function selectJwk(keys: readonly JWK[], hint: JwsKeyHint): JwkSelection {
  const candidates = keys.filter(
    (key) => (hint.kid === undefined || key.kid === hint.kid) && isJwkCompatible(key, hint.alg),
  )
  if (candidates.length === 1) return { key: candidates[0]! }
  return { problem: candidates.length === 0 ? 'none' : 'ambiguous' }
}
