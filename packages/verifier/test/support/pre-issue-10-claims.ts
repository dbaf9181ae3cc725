/**
 * A frozen copy of the claim rules as they were before issue 10 made claim names configurable
 * (`principalFromClaims` of `packages/verifier/src/access-token-claims.ts` at commit 84693d7),
 * the reference the claim-mapping differential test judges today's verifier against. Do not
 * update it to follow the source: its whole point is that it does not change.
 *
 * Copied as it was, with two edits only: `Principal` is imported from the package, and the
 * defaults the verifier applied then (`PRE_ISSUE_10_DEFAULTS`) are written out here.
 */
import { InvalidTokenError } from '@oauth-m2m/core'
import { deepFreeze } from '@oauth-m2m/core/internal'
import type { Principal } from '@oauth-m2m/verifier'

/** The verifier's defaults at 84693d7: `clockToleranceSec` 5, `requiredClaims` none. */
export const PRE_ISSUE_10_DEFAULTS = { clockToleranceSec: 5, requiredClaims: [] as readonly string[] }

/** What the claims are checked against. */
export interface ClaimRules {
  /** Accepted `iss` values. */
  issuers: readonly string[]
  /** Accepted audiences; the token's `aud` must contain one of them. */
  audiences: readonly string[]
  /** Allowed clock difference for `exp`, `nbf` and `iat`, in seconds. */
  clockToleranceSec: number
  /** Claims that must be present besides those RFC 9068 requires. */
  requiredClaims: readonly string[]
}

/** How the claims were obtained; introspection answers may leave out `iss` and `exp`. */
export interface ClaimSource {
  source: Principal['source']
  /** The issuer to report when an introspection answer has no `iss`. */
  defaultIssuer?: string
}

function invalid(message: string): never {
  throw new InvalidTokenError(message)
}

function numericDate(claims: Record<string, unknown>, name: string): number | undefined {
  const value = claims[name]
  if (value === undefined) return undefined
  if (typeof value !== 'number' || !Number.isFinite(value)) invalid(`the token's "${name}" is not a number`)
  return value
}

function optionalString(claims: Record<string, unknown>, name: string): string | undefined {
  const value = claims[name]
  return typeof value === 'string' ? value : undefined
}

/**
 * Checks the claims and returns the frozen {@link Principal} (frozen because verified principals
 * are shared between callers through the caches).
 *
 * @throws {InvalidTokenError} naming the first rule broken; never quoting a claim's value.
 */
export function principalFromClaims(
  claims: Record<string, unknown>,
  rules: ClaimRules,
  from: ClaimSource,
  nowMs: number,
): Principal {
  const jwt = from.source === 'jwt'
  const nowSec = Math.floor(nowMs / 1000)
  const tolerance = rules.clockToleranceSec

  for (const name of rules.requiredClaims) {
    if (!Object.hasOwn(claims, name)) invalid(`the token has no "${name}" claim`)
  }

  const iss = claims.iss
  let issuer: string
  if (iss === undefined && !jwt && from.defaultIssuer !== undefined) issuer = from.defaultIssuer
  else if (typeof iss === 'string' && rules.issuers.includes(iss)) issuer = iss
  else
    invalid(
      iss === undefined ? 'the token has no "iss" claim' : 'the token was issued by an unexpected issuer',
    )

  const aud = claims.aud
  if (aud === undefined) invalid('the token has no "aud" claim')
  const audience =
    typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud.filter((a) => typeof a === 'string') : []
  if (!rules.audiences.some((a) => audience.includes(a))) invalid('the token is not meant for this audience')

  const exp = numericDate(claims, 'exp')
  if (exp === undefined && jwt) invalid('the token has no "exp" claim')
  if (exp !== undefined && exp <= nowSec - tolerance) invalid('the token has expired')
  const nbf = numericDate(claims, 'nbf')
  if (nbf !== undefined && nbf > nowSec + tolerance)
    invalid('the token is not valid yet ("nbf" is in the future)')
  const iat = numericDate(claims, 'iat')
  if (iat !== undefined && iat > nowSec + tolerance) invalid('the token was issued in the future ("iat")')

  const clientId = claims.client_id
  if (typeof clientId !== 'string' || clientId === '') invalid('the token has no "client_id" claim')

  const scope = claims.scope
  if (scope !== undefined && typeof scope !== 'string') invalid('the token\'s "scope" is not a string')
  // Not core's parseScopeParameter, which refuses a doubled or trailing space: a claim the issuer
  // signed is read as it is, loosely spaced or not, rather than turning a valid token into a 401.
  const scopes = scope === undefined ? [] : scope.split(' ').filter((s) => s !== '')

  return deepFreeze({
    clientId,
    subject: optionalString(claims, 'sub'),
    scopes,
    audience,
    issuer,
    expiresAt: exp === undefined ? Number.POSITIVE_INFINITY : exp * 1000,
    jti: optionalString(claims, 'jti'),
    claims,
    source: from.source,
  })
}
