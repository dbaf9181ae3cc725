/**
 * The local check of an RFC 9068 JWT access token: header rules, the issuer's key by `kid`, the
 * signature, then the claims.
 *
 * @module jwt-verification
 */
import { InvalidTokenError } from '@oauth-m2m/core'
import { type ClaimRules, principalFromClaims } from './access-token-claims.js'
import { type CompactJws, decodeJsonSegment } from './compact-jws.js'
import { type IssuerKeys, keyForHeader } from './issuer-keys.js'
import { checkAccessTokenHeader, type TypPolicy } from './jwt-header.js'
import { checkSignature } from './signature-check.js'
import type { Principal } from './types.js'

/** Everything a JWT is checked against. */
export interface JwtPolicy {
  /** Key sources by issuer. */
  keysByIssuer: ReadonlyMap<string, IssuerKeys>
  /**
   * The key source of every token when all issuers share one (a single issuer, or an explicit
   * `jwksUri`); then `iss` need not be read before the signature is checked.
   */
  sharedKeys: IssuerKeys | undefined
  rules: ClaimRules
  typ: TypPolicy
  /** The clock `exp`, `nbf` and `iat` are judged by, in epoch milliseconds. */
  now: () => number
}

/**
 * Verifies a compact JWS access token, parsed from a token that passed `classifyToken` as `jwt`.
 * `decodedClaims` is its payload when the caller already decoded it (to pick the entry by `iss`).
 *
 * @throws {InvalidTokenError} for any token that is not an acceptable access token.
 * @throws {TemporarilyUnavailableError} when the issuer's metadata or keys cannot be had.
 */
export async function verifyJwt(
  jws: CompactJws,
  policy: JwtPolicy,
  signal?: AbortSignal,
  decodedClaims?: Record<string, unknown>,
): Promise<Principal> {
  let claims = decodedClaims
  let issuerKeys = policy.sharedKeys
  if (issuerKeys === undefined) {
    // Several issuers with their own keys: `iss` picks the key set. It is read unverified, but the
    // signature then binds it, and an unknown issuer is refused without any network traffic.
    claims ??= decodeJsonSegment(jws.encodedPayload, 'claims')
    const iss = claims.iss
    issuerKeys = typeof iss === 'string' ? policy.keysByIssuer.get(iss) : undefined
    if (issuerKeys === undefined) throw new InvalidTokenError('the token was issued by an unexpected issuer')
  }
  const { keys, algorithms } = issuerKeys.resolved ?? (await issuerKeys.resolve(signal))
  const header = checkAccessTokenHeader(jws.header, algorithms, policy.typ)
  const jwk = await keyForHeader(keys, header, signal)
  if (!checkSignature(jwk, header.alg, jws.signingInput, jws.signature)) {
    throw new InvalidTokenError("the token's signature is not valid")
  }
  claims ??= decodeJsonSegment(jws.encodedPayload, 'claims')
  return principalFromClaims(claims, policy.rules, { source: 'jwt' }, policy.now())
}
