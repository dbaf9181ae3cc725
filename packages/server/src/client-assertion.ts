/**
 * JWT client assertions (RFC 7523 §3, used by `client_secret_jwt` and `private_key_jwt`): signature
 * with the client's registered key under its algorithm allowlist, iss = sub = client_id, `aud` the
 * issuer or an endpoint URL (or, strictly, the issuer as one string: draft-ietf-oauth-rfc7523bis-11
 * §4), `exp` required and short, `jti` required and never seen twice.
 *
 * @module client-assertion
 */
import type { JWTPayload, JWTVerifyResult } from 'jose'
import * as joseErrors from 'jose/errors'
import type { RegisteredClient } from './client-registry.js'
import { FAPI2_JWS_ALGS } from './fapi2-profile.js'
import { keyDigest } from './key-digest.js'
import type { ServerStore, StoreFull } from './server-store.js'

/**
 * JWS algorithms a client assertion may use, per authentication method (RFC 7518): HMAC only with
 * the client's secret, asymmetric only with its registered keys.
 */
export const ASSERTION_ALGS = {
  client_secret_jwt: ['HS256', 'HS384', 'HS512'],
  private_key_jwt: ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'],
} as const

/** Settings of {@link verifyClientAssertion}. */
export interface AssertionPolicy {
  /**
   * Accepted `aud` values: the issuer, the token endpoint, the endpoint being called. The claim
   * may be one of them or an array holding one of them (RFC 7523 §3).
   */
  audiences: string[]
  /**
   * When set, the only accepted `aud`: the issuer identifier, as a single string (an array, even
   * of the issuer alone, is refused), and a `typ` header naming another kind of JWT is refused.
   * `audiences` is then not read. See {@link strictAudienceFailure}.
   */
  strictIssuer?: string | undefined
  /**
   * The FAPI 2.0 rules (`profile: 'fapi2'`): only PS256, ES256 and EdDSA (§5.4.1 item 1), and an
   * `iat` later than now plus the tolerance refused (§5.3.2.1 item 13).
   */
  fapi2?: boolean
  /** Longest accepted `exp` − now, in seconds. */
  maxLifetimeSec: number
  /** Clock tolerance, in seconds. */
  clockToleranceSec: number
  /** The server's clock, epoch ms: `exp`, `nbf` and `iat` are checked against it. */
  now: () => number
  /** Where used `jti`s are remembered. */
  store: ServerStore
}

/**
 * Outcome of {@link verifyClientAssertion}: `undefined` when valid, else why not (safe to send), or
 * {@link StoreFull} when the assertion could not be spent as the replay store has no room.
 */
export type AssertionFailure = string | StoreFull | undefined

/**
 * `typ` values a client assertion may carry under the strict audience rule: none, the explicit type
 * of draft-ietf-oauth-rfc7523bis-11 §4, or the generic `JWT` of clients written before it. The
 * draft makes the explicit type a SHOULD for clients and calls rejecting untyped assertions NOT
 * RECOMMENDED, so neither absence nor `JWT` is refused; any other type is a JWT minted for
 * something else (an access token, a DPoP proof) and is refused (RFC 8725 §3.11). Compared
 * without case and without an `application/` prefix (RFC 7515 §4.1.9).
 */
const ASSERTION_TYPS: ReadonlySet<string> = new Set(['jwt', 'client-authentication+jwt'])

/**
 * Why an assertion fails the strict audience rule (draft-ietf-oauth-rfc7523bis-11 §4 item 3.b,
 * FAPI 2.0 Security Profile §5.3.2.1 item 8), or `undefined` when it passes: `aud` must be the
 * issuer identifier as one string, and `typ`, when present, must not name another kind of JWT.
 */
export function strictAudienceFailure(payload: JWTPayload, typ: unknown, issuer: string): string | undefined {
  if (typeof payload.aud !== 'string' || payload.aud !== issuer) {
    return 'the client assertion aud claim must be the issuer identifier, as a single string'
  }
  if (typ !== undefined) {
    const type = typeof typ === 'string' ? typ.toLowerCase().replace(/^application\//, '') : ''
    if (!ASSERTION_TYPS.has(type)) return 'the client assertion typ header names another kind of JWT'
  }
  return undefined
}

/**
 * Why an assertion that jose accepted breaks a FAPI 2.0 rule jose does not check, or `undefined`:
 * an `iat` in the future beyond the tolerance (§5.3.2.1 item 13; jose reads `iat` only for a
 * maximum age). The key rules of §5.4.1 need nothing here: jose refuses RSA keys under 2048 bits
 * and does not verify EdDSA with Ed448 keys.
 */
function fapi2Failure(payload: JWTPayload, policy: AssertionPolicy): string | undefined {
  if (
    typeof payload.iat === 'number' &&
    payload.iat * 1000 > policy.now() + policy.clockToleranceSec * 1000
  ) {
    return 'the client assertion iat claim is in the future'
  }
  return undefined
}

const NAMED_CLAIMS = new Set(['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti'])

function describe(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'the client assertion has expired'
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    const claim = NAMED_CLAIMS.has(error.claim) ? `${error.claim} claim` : 'claims'
    return error.reason === 'missing'
      ? `the client assertion ${claim} is missing`
      : `the client assertion ${claim} is not acceptable`
  }
  if (error instanceof joseErrors.JOSEAlgNotAllowed)
    return 'the client assertion alg is not allowed for this client'
  if (error instanceof joseErrors.JWSSignatureVerificationFailed)
    return 'the client assertion signature is invalid'
  const code = (error as { code?: unknown } | null)?.code
  if (code === 'ERR_JWKS_NO_MATCHING_KEY' || code === 'ERR_JWKS_MULTIPLE_MATCHING_KEYS') {
    return 'no registered key of the client matches the client assertion'
  }
  if (code === 'ERR_JWKS_UNAVAILABLE' || code === 'ERR_TIMEOUT' || code === 'ERR_NETWORK') {
    return 'the client jwks_uri could not be fetched'
  }
  if (error instanceof joseErrors.JWSInvalid || error instanceof joseErrors.JWTInvalid) {
    return 'the client assertion is not a valid JWT'
  }
  return 'the client assertion is invalid'
}

async function verifySignatureAndClaims(
  assertion: string,
  client: RegisteredClient,
  policy: AssertionPolicy,
): Promise<JWTVerifyResult> {
  const options = {
    algorithms: policy.fapi2
      ? client.assertionAlgs.filter((alg) => FAPI2_JWS_ALGS.includes(alg))
      : [...client.assertionAlgs],
    issuer: client.id,
    subject: client.id,
    // Under the strict rule jose checks the value; the form (a string) is checked after.
    audience: policy.strictIssuer ?? policy.audiences,
    requiredClaims: ['exp', 'jti'],
    clockTolerance: policy.clockToleranceSec,
    currentDate: new Date(policy.now()),
  }
  // Loaded with the first assertion, not at import: a server whose clients use secrets never needs it.
  const { jwtVerify } = await import('jose/jwt/verify')
  if (client.assertionKeys) return await jwtVerify(assertion, client.assertionKeys, options)
  let lastError: unknown = new joseErrors.JWSSignatureVerificationFailed()
  // Several secrets may be active during a rotation: any of them may have signed.
  for (const key of client.hmacKeys) {
    try {
      return await jwtVerify(assertion, key, options)
    } catch (error) {
      lastError = error
      if (!(error instanceof joseErrors.JWSSignatureVerificationFailed)) break
    }
  }
  throw lastError
}

/** Verifies a client assertion for `client`; on success its `jti` is spent. */
export async function verifyClientAssertion(
  assertion: string,
  client: RegisteredClient,
  policy: AssertionPolicy,
): Promise<AssertionFailure> {
  let payload: JWTPayload
  try {
    const verified = await verifySignatureAndClaims(assertion, client, policy)
    payload = verified.payload
    if (policy.fapi2) {
      const failure = fapi2Failure(payload, policy)
      if (failure !== undefined) return failure
    }
    if (policy.strictIssuer !== undefined) {
      const failure = strictAudienceFailure(payload, verified.protectedHeader.typ, policy.strictIssuer)
      if (failure !== undefined) return failure
    }
  } catch (error) {
    return describe(error)
  }
  const expiresAtMs = (payload.exp as number) * 1000
  if (expiresAtMs - policy.now() > (policy.maxLifetimeSec + policy.clockToleranceSec) * 1000) {
    return 'the client assertion expires too far in the future'
  }
  if (typeof payload.jti !== 'string' || payload.jti === '')
    return 'the client assertion jti claim is not acceptable'
  const fresh = await policy.store.useOnce(
    'client-assertion',
    // A digest: the client's id and jti may be long, an entry's memory stays fixed.
    keyDigest(client.id, payload.jti),
    expiresAtMs + policy.clockToleranceSec * 1000,
  )
  if (fresh === false) return 'the client assertion was already used (jti replay)'
  return fresh === true ? undefined : fresh
}
