/**
 * `profile: 'fapi2'`: the rules of the FAPI 2.0 Security Profile (final, February 2025) that apply
 * to a client credentials server, checked on the configuration and on each client, and the
 * metadata narrowed to what the profile allows. Each rule names the section it comes from.
 *
 * @module fapi2-profile
 */
import { createPublicKey } from 'node:crypto'
import { fail, isObject } from './field-validation.js'
import type { ServerMetadata } from './metadata.js'

/** A named set of stricter rules the server applies: `fapi2`, the FAPI 2.0 Security Profile. */
export type ServerProfile = 'fapi2'

/**
 * Client authentication methods of FAPI 2.0 §5.3.2.1 item 6: mutual TLS (RFC 8705 §2, both of its
 * methods) or `private_key_jwt`. Every shared-secret method and public clients (item 3) are out.
 */
export const FAPI2_AUTH_METHODS: readonly string[] = [
  'private_key_jwt',
  'tls_client_auth',
  'self_signed_tls_client_auth',
]

/** JWS algorithms of FAPI 2.0 §5.4.1 item 1.2, for every JWT created or processed. */
export const FAPI2_JWS_ALGS: readonly string[] = ['PS256', 'ES256', 'EdDSA']

/**
 * Algorithms a DPoP proof may use under the profile: those of {@link FAPI2_JWS_ALGS}, plus
 * `Ed25519`, the fully-specified name (RFC 9864) of EdDSA with Ed25519 that the note of §5.4.1
 * admits once registered.
 */
export const FAPI2_DPOP_ALGS: readonly string[] = ['ES256', 'EdDSA', 'Ed25519', 'PS256']

/** §5.4.1 items 2 and 3. */
const MIN_RSA_BITS = 2048
const MIN_EC_BITS = 224
const EC_CURVE_BITS: Readonly<Record<string, number>> = {
  prime256v1: 256,
  secp256k1: 256,
  secp384r1: 384,
  secp521r1: 521,
}

/**
 * §5.3.2.1 item 13: JWTs whose `iat`/`nbf` is up to 10 s ahead must be accepted, more than 60 s
 * ahead refused; the server's tolerances must lie between.
 */
const MIN_FUTURE_SEC = 10
const MAX_FUTURE_SEC = 60

const PROFILE = 'under profile "fapi2"'

/** Checks the `profile` option. */
export function resolveProfile(value: unknown): ServerProfile | undefined {
  if (value === undefined) return undefined
  if (value !== 'fapi2') fail('profile', 'must be "fapi2" (the FAPI 2.0 Security Profile) when given')
  return value
}

/**
 * Fails unless a client may be registered under the profile: a method of §5.3.2.1 item 6, an
 * assertion algorithm of §5.4.1, and registered keys of the sizes §5.4.1 sets. The message names
 * the client by its `client_id` (not a secret), as a configuration with many clients needs.
 *
 * @param field Where the client sits (`clients[1]`), or `undefined` for one registered at run time.
 */
export function checkFapi2Client(client: Record<string, unknown>, field: string | undefined): void {
  const named = `(client ${JSON.stringify(client.client_id)})`
  const member = (name: string) => (field === undefined ? name : `${field}.${name}`)
  const method = client.token_endpoint_auth_method ?? 'client_secret_basic'
  if (typeof method !== 'string' || !FAPI2_AUTH_METHODS.includes(method)) {
    const why =
      method === 'none'
        ? 'none, a public client, which'
        : `${String(method)}${client.token_endpoint_auth_method === undefined ? ' (the default)' : ''}, a shared secret, which`
    fail(
      member('token_endpoint_auth_method'),
      `${named} is ${why} ${PROFILE} is refused (FAPI 2.0 §5.3.2.1 items 3 and 6): use ${FAPI2_AUTH_METHODS.join(', ')}`,
    )
  }
  const alg = client.token_endpoint_auth_signing_alg
  if (alg !== undefined && !FAPI2_JWS_ALGS.includes(alg as string)) {
    fail(
      member('token_endpoint_auth_signing_alg'),
      `${named} must be one of ${FAPI2_JWS_ALGS.join(', ')} ${PROFILE} (FAPI 2.0 §5.4.1 item 1)`,
    )
  }
  const jwks = client.jwks
  if (isObject(jwks) && Array.isArray(jwks.keys)) {
    jwks.keys.forEach((key: unknown, i: number) => {
      const problem = keyProblem(key)
      if (problem !== undefined) fail(member(`jwks.keys[${i}]`), `${named} ${problem}`)
    })
  }
}

/** Why a public JWK may not be used under the profile (§5.4.1), or `undefined`. */
export function keyProblem(jwk: unknown): string | undefined {
  if (!isObject(jwk) || (jwk.kty !== 'RSA' && jwk.kty !== 'EC' && jwk.kty !== 'OKP')) return undefined
  if (jwk.kty === 'OKP') {
    // EdDSA "using the Ed25519 variant" only; X25519 keys do not sign and are left alone.
    return jwk.crv === 'Ed448'
      ? `is an Ed448 key: only Ed25519 is allowed ${PROFILE} (FAPI 2.0 §5.4.1 item 1)`
      : undefined
  }
  let details: { modulusLength?: number | undefined; namedCurve?: string | undefined } | undefined
  try {
    details = createPublicKey({
      key: jwk as import('node:crypto').JsonWebKey,
      format: 'jwk',
    }).asymmetricKeyDetails
  } catch {
    return 'is not a valid public key'
  }
  if (jwk.kty === 'RSA') {
    const bits = details?.modulusLength ?? 0
    return bits < MIN_RSA_BITS
      ? `is a ${bits}-bit RSA key: at least ${MIN_RSA_BITS} bits ${PROFILE} (FAPI 2.0 §5.4.1 item 2)`
      : undefined
  }
  const bits = EC_CURVE_BITS[details?.namedCurve ?? ''] ?? 0
  return bits < MIN_EC_BITS
    ? `is an elliptic curve key under ${MIN_EC_BITS} bits ${PROFILE} (FAPI 2.0 §5.4.1 item 3)`
    : undefined
}

/** The parts of the configuration the profile constrains, as given (`input`) and as resolved. */
export interface Fapi2Subject {
  /** The configuration object as given. */
  input: Record<string, unknown>
  /** The registered clients, validated. */
  clients: readonly Record<string, unknown>[]
  dpopMode: string
  dpopAlgorithms: readonly string[]
  dpopIatWindowSec: number
  clockToleranceSec: number
}

/** What the profile changes in the resolved configuration. */
export interface Fapi2Adjustments {
  strictAssertionAudience: true
  /**
   * `required` when mutual TLS is off, since a DPoP proof is then the only sender constraint
   * (§5.3.2.1 items 4 and 5); otherwise as configured, and the token endpoint refuses a request
   * that ends up neither DPoP- nor certificate-bound.
   */
  dpopMode: string
  dpopAlgorithms: readonly string[]
}

/**
 * Checks a configuration against the profile and says what it changes.
 *
 * @throws through {@link fail}, naming the first offending field.
 */
export function applyFapi2(subject: Fapi2Subject): Fapi2Adjustments {
  const { input } = subject
  subject.clients.forEach((client, i) => {
    checkFapi2Client(client, `clients[${i}]`)
  })
  if (input.strictAssertionAudience === false) {
    fail('strictAssertionAudience', `cannot be false ${PROFILE} (FAPI 2.0 §5.3.2.1 item 8)`)
  }
  checkSigning(input.signing)
  const mtls = input.mtls !== undefined
  if (subject.dpopMode === 'disabled' && !mtls) {
    fail(
      'dpop',
      `cannot be "disabled" ${PROFILE} without mtls: every access token must be sender-constrained, by DPoP or mTLS (FAPI 2.0 §5.3.2.1 items 4 and 5)`,
    )
  }
  const dpopInput = input.dpop
  const algorithmsGiven = isObject(dpopInput) && dpopInput.algorithms !== undefined
  let dpopAlgorithms = subject.dpopAlgorithms.filter((alg) => FAPI2_DPOP_ALGS.includes(alg))
  if (algorithmsGiven) {
    subject.dpopAlgorithms.forEach((alg, i) => {
      if (!FAPI2_DPOP_ALGS.includes(alg)) {
        fail(
          `dpop.algorithms[${i}]`,
          `must be one of ${FAPI2_DPOP_ALGS.join(', ')} ${PROFILE} (FAPI 2.0 §5.4.1 item 1)`,
        )
      }
    })
    dpopAlgorithms = [...subject.dpopAlgorithms]
  }
  checkFutureWindow(subject.clockToleranceSec, 'clockToleranceSec')
  checkFutureWindow(subject.dpopIatWindowSec, 'dpop.iatWindowSec')
  return {
    strictAssertionAudience: true,
    dpopMode: subject.dpopMode === 'disabled' || mtls ? subject.dpopMode : 'required',
    dpopAlgorithms,
  }
}

function checkFutureWindow(valueSec: number, field: string): void {
  if (valueSec < MIN_FUTURE_SEC || valueSec > MAX_FUTURE_SEC) {
    fail(
      field,
      `must be from ${MIN_FUTURE_SEC} to ${MAX_FUTURE_SEC} seconds ${PROFILE}: JWTs up to 10 s ahead must be accepted, none over 60 s ahead (FAPI 2.0 §5.3.2.1 item 13)`,
    )
  }
}

/**
 * The access-token signing settings (§5.4.1 item 1): `signing.alg` PS256, ES256 or EdDSA, and every
 * configured key signing with one of them. An RSA key without `alg` would sign RS256 unless
 * `signing.alg` is PS256, so it must say. (RSA keys under 2048 bits are refused whatever the
 * profile, §5.4.1 item 2.)
 */
function checkSigning(signing: unknown): void {
  if (!isObject(signing)) return
  const { alg, keys } = signing
  if (alg !== undefined && !FAPI2_JWS_ALGS.includes(alg as string)) {
    fail('signing.alg', `must be one of ${FAPI2_JWS_ALGS.join(', ')} ${PROFILE} (FAPI 2.0 §5.4.1 item 1)`)
  }
  if (!Array.isArray(keys)) return
  keys.forEach((key: unknown, i: number) => {
    if (!isObject(key)) return
    if (key.alg !== undefined && !FAPI2_JWS_ALGS.includes(key.alg as string)) {
      fail(
        `signing.keys[${i}].alg`,
        `must be one of ${FAPI2_JWS_ALGS.join(', ')} ${PROFILE} (FAPI 2.0 §5.4.1 item 1)`,
      )
    }
    if (key.kty === 'RSA' && key.alg === undefined && alg !== 'PS256') {
      fail(
        `signing.keys[${i}]`,
        `is an RSA key without "alg", which would sign RS256: give it "alg": "PS256" ${PROFILE} (FAPI 2.0 §5.4.1 item 1)`,
      )
    }
    if (key.kty === 'OKP' && key.crv === 'Ed448') {
      fail(
        `signing.keys[${i}]`,
        `is an Ed448 key: only Ed25519 is allowed ${PROFILE} (FAPI 2.0 §5.4.1 item 1)`,
      )
    }
  })
}

/**
 * Fails when `rotateSigningKey(alg)` asks for an algorithm outside §5.4.1 item 1.
 *
 * @throws through {@link fail}.
 */
export function checkFapi2SigningAlg(alg: string | undefined): void {
  if (alg !== undefined && !FAPI2_JWS_ALGS.includes(alg)) {
    fail('alg', `must be one of ${FAPI2_JWS_ALGS.join(', ')} ${PROFILE} (FAPI 2.0 §5.4.1 item 1)`)
  }
}

/**
 * The metadata document narrowed to what the profile allows: authentication methods of §5.3.2.1
 * item 6 and assertion algorithms of §5.4.1 item 1 (the DPoP algorithms are already the
 * profile's, as the resolved configuration holds them).
 */
export function fapi2Metadata(metadata: ServerMetadata): ServerMetadata {
  const methods = (list: string[]) => list.filter((method) => FAPI2_AUTH_METHODS.includes(method))
  const algs = (list: string[]) => list.filter((alg) => FAPI2_JWS_ALGS.includes(alg))
  return {
    ...metadata,
    token_endpoint_auth_methods_supported: methods(metadata.token_endpoint_auth_methods_supported),
    token_endpoint_auth_signing_alg_values_supported: algs(
      metadata.token_endpoint_auth_signing_alg_values_supported,
    ),
    introspection_endpoint_auth_methods_supported: methods(
      metadata.introspection_endpoint_auth_methods_supported,
    ),
    introspection_endpoint_auth_signing_alg_values_supported: algs(
      metadata.introspection_endpoint_auth_signing_alg_values_supported,
    ),
    revocation_endpoint_auth_methods_supported: methods(metadata.revocation_endpoint_auth_methods_supported),
    revocation_endpoint_auth_signing_alg_values_supported: algs(
      metadata.revocation_endpoint_auth_signing_alg_values_supported,
    ),
  }
}
