/**
 * The JWS algorithms a DPoP proof may be signed with (RFC 9449 §4.3 rule 5: registered,
 * asymmetric, never `none`), and what each needs of the key and the signature.
 *
 * @module dpop/dpop-algorithms
 */

/**
 * Every asymmetric JWS algorithm of RFC 7518 §3 and RFC 8037 (with its RFC 9864 name `Ed25519`)
 * that node:crypto and jose both check, so that clients of any stack are served: ES256 (the
 * common default: oauth4webapi, browsers' WebCrypto), EdDSA/Ed25519, the PS and RS families for
 * keys held in HSMs and cloud KMSs that only do RSA. `none` and the HMAC algorithms are absent by
 * construction: a proof is checked with the public key it carries, so a shared secret cannot exist.
 */
export const DPOP_SIGNING_ALGS = [
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
  'PS256',
  'PS384',
  'PS512',
  'RS256',
  'RS384',
  'RS512',
] as const

/** One of {@link DPOP_SIGNING_ALGS}. */
export type DpopSigningAlg = (typeof DPOP_SIGNING_ALGS)[number]

/** What an algorithm needs of its key and signature, for the node:crypto check. */
export interface DpopAlgorithmProfile {
  /** Digest for `crypto.verify`; `null` for EdDSA, which hashes internally. */
  readonly digest: string | null
  readonly kty: 'RSA' | 'EC' | 'OKP'
  /** Required `crv` of EC and OKP keys. */
  readonly crv?: string
  /** PSS salt length in bytes (equal to the digest's length, RFC 7518 §3.5). */
  readonly pssSaltLength?: number
  /** Exact signature length for ECDSA (IEEE P1363 r ‖ s) and EdDSA. */
  readonly signatureLength?: number
}

/** The profile of every algorithm of {@link DPOP_SIGNING_ALGS}. */
export const DPOP_ALGORITHM_PROFILES: Readonly<Record<DpopSigningAlg, DpopAlgorithmProfile>> = {
  ES256: { digest: 'sha256', kty: 'EC', crv: 'P-256', signatureLength: 64 },
  ES384: { digest: 'sha384', kty: 'EC', crv: 'P-384', signatureLength: 96 },
  ES512: { digest: 'sha512', kty: 'EC', crv: 'P-521', signatureLength: 132 },
  EdDSA: { digest: null, kty: 'OKP', crv: 'Ed25519', signatureLength: 64 },
  Ed25519: { digest: null, kty: 'OKP', crv: 'Ed25519', signatureLength: 64 },
  PS256: { digest: 'sha256', kty: 'RSA', pssSaltLength: 32 },
  PS384: { digest: 'sha384', kty: 'RSA', pssSaltLength: 48 },
  PS512: { digest: 'sha512', kty: 'RSA', pssSaltLength: 64 },
  RS256: { digest: 'sha256', kty: 'RSA' },
  RS384: { digest: 'sha384', kty: 'RSA' },
  RS512: { digest: 'sha512', kty: 'RSA' },
}

const KNOWN = new Set<string>(DPOP_SIGNING_ALGS)

/** Whether `alg` is one of {@link DPOP_SIGNING_ALGS}. */
export function isDpopSigningAlg(alg: unknown): alg is DpopSigningAlg {
  return typeof alg === 'string' && KNOWN.has(alg)
}
