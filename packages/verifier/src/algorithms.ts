/**
 * The JWS algorithms an access token may be signed with, and how the default allowlist is chosen.
 *
 * @module algorithms
 */
import { ConfigurationError } from '@oauth-m2m/core'

/** The asymmetric JWS algorithms the verifier checks (RFC 7518 §3, RFC 8037, RFC 9864). */
export type JwsAlgorithm =
  | 'RS256'
  | 'RS384'
  | 'RS512'
  | 'PS256'
  | 'PS384'
  | 'PS512'
  | 'ES256'
  | 'ES384'
  | 'ES512'
  | 'EdDSA'
  | 'Ed25519'

/** Every algorithm the verifier can check. HMAC and `none` are deliberately absent. */
export const SUPPORTED_ALGORITHMS: readonly JwsAlgorithm[] = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
]

const SUPPORTED = new Set<string>(SUPPORTED_ALGORITHMS)

/** Whether `alg` names an algorithm the verifier can check. */
export function isSupportedAlgorithm(alg: string): alg is JwsAlgorithm {
  return SUPPORTED.has(alg)
}

/**
 * Validates an explicit `algorithms` option. `none` and the HMAC algorithms are refused outright:
 * a resource server holds no shared secret, so an HMAC-signed token can only be a forgery made
 * with public key material.
 */
export function checkAlgorithmsOption(algorithms: readonly string[]): ReadonlySet<JwsAlgorithm> {
  if (!Array.isArray(algorithms) || algorithms.length === 0) {
    throw new ConfigurationError('algorithms must be a non-empty array')
  }
  for (const alg of algorithms) {
    if (!isSupportedAlgorithm(alg)) {
      throw new ConfigurationError(
        `algorithms: ${JSON.stringify(alg)} is not allowed; use asymmetric algorithms (${SUPPORTED_ALGORITHMS.join(', ')})`,
      )
    }
  }
  return new Set(algorithms as JwsAlgorithm[])
}

/** Metadata members (RFC 8414, OpenID Discovery) through which issuers advertise signing algorithms. */
const ADVERTISING_MEMBERS = [
  'access_token_signing_alg_values_supported',
  'id_token_signing_alg_values_supported',
]

/**
 * The default allowlist for one issuer: the asymmetric algorithms its metadata advertises plus
 * RS256, which RFC 9068 §4 requires every resource server to accept. When the metadata advertises
 * none (or there is no metadata), every supported asymmetric algorithm: the key's type still pins
 * the algorithm family, and HMAC and `none` stay excluded.
 */
export function defaultAlgorithms(metadata: Record<string, unknown> | undefined): ReadonlySet<JwsAlgorithm> {
  const advertised = new Set<JwsAlgorithm>()
  for (const member of ADVERTISING_MEMBERS) {
    const values = metadata?.[member]
    if (!Array.isArray(values)) continue
    for (const alg of values) if (typeof alg === 'string' && isSupportedAlgorithm(alg)) advertised.add(alg)
  }
  if (advertised.size === 0) return new Set(SUPPORTED_ALGORITHMS)
  advertised.add('RS256')
  return advertised
}
