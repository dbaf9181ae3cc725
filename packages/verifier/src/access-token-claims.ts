/**
 * The claim rules an access token must meet, shared by the JWT path (RFC 9068 §4) and the
 * introspection path (RFC 7662 §2.2), and the {@link Principal} built from the claims.
 *
 * Time comparisons use whole seconds, as jose does, so that both judge the same instant alike.
 *
 * @module access-token-claims
 */
import { InvalidTokenError } from '@oauth-m2m/core'
import { deepFreeze } from '@oauth-m2m/core/internal'
import type { Confirmation, Principal } from './types.js'

/** What the claims are checked against. */
export interface ClaimRules {
  /** Accepted `iss` values. */
  issuers: readonly string[]
  /** Accepted audiences; the token's `aud` must contain one of them. `null`: `aud` is not checked. */
  audiences: readonly string[] | null
  /** The clients allowed; `undefined`: any. */
  clientIds?: ReadonlySet<string> | undefined
  /** Allowed clock difference for `exp`, `nbf` and `iat`, in seconds. */
  clockToleranceSec: number
  /** Claims that must be present besides those RFC 9068 requires. */
  requiredClaims: readonly string[]
  /** Claim names the client id is read from; the first present one wins. */
  clientIdClaims: readonly string[]
  /** Claims whose values are granted scopes, all merged. */
  scopeClaims: readonly string[]
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
 * The client id: the value of the first of `names` the token has. A present claim that is not a
 * non-empty string refuses the token rather than falling through to the next name, so that a
 * malformed claim can never be papered over by another one.
 */
function clientIdFrom(claims: Record<string, unknown>, names: readonly string[]): string {
  for (const name of names) {
    if (!Object.hasOwn(claims, name)) continue
    const value = claims[name]
    if (typeof value !== 'string') invalid(`the token's "${name}" claim is not a string`)
    if (value === '') invalid(`the token's "${name}" claim is empty`)
    return value
  }
  return invalid(`the token names no client (no ${names.map((n) => `"${n}"`).join(' or ')} claim)`)
}

/** RFC 8693 §4.2's claim, which RFC 9068 §2.2.3 uses: always a space-separated string. */
const SCOPE_CLAIM = 'scope'

/**
 * The granted scopes, merged from every claim of `names` the token has, without duplicates, in
 * order of first appearance. Each claim is a space-separated string or an array of strings, except
 * `scope`, which RFC 8693 §4.2 defines as a string and stays one (so the default reads tokens
 * exactly as before claim names became configurable). Any other type refuses the token.
 */
function scopesFrom(claims: Record<string, unknown>, names: readonly string[]): string[] {
  // The common case, one claim holding a string, builds no Set.
  if (names.length === 1) return scopeValues(claims, names[0]!) ?? []
  const merged = new Set<string>()
  for (const name of names) {
    for (const scope of scopeValues(claims, name) ?? []) merged.add(scope)
  }
  return [...merged]
}

function scopeValues(claims: Record<string, unknown>, name: string): string[] | undefined {
  if (!Object.hasOwn(claims, name)) return undefined
  const value = claims[name]
  // Not core's parseScopeParameter, which refuses a doubled or trailing space: a claim the issuer
  // signed is read as it is, loosely spaced or not, rather than turning a valid token into a 401.
  if (typeof value === 'string') return value.split(' ').filter((s) => s !== '')
  if (name === SCOPE_CLAIM) invalid(`the token's "${name}" claim is not a string`)
  if (!Array.isArray(value) || value.some((s) => typeof s !== 'string')) {
    invalid(`the token's "${name}" claim is neither a string nor an array of strings`)
  }
  return (value as string[]).filter((s) => s !== '')
}

/**
 * The key bindings of `cnf` (RFC 7800 §3.1), as far as they are checked here: `jkt` (RFC 9449 §6)
 * and `x5t#S256` (RFC 8705 §3.1). A `cnf` that is not an object, or a member of these that is not
 * a non-empty string, refuses the token rather than leaving it unbound. Other confirmation
 * methods are ignored.
 */
function confirmationFrom(claims: Record<string, unknown>): Confirmation | undefined {
  const cnf = claims.cnf
  if (cnf === undefined) return undefined
  if (typeof cnf !== 'object' || cnf === null || Array.isArray(cnf))
    invalid('the token\'s "cnf" claim is not an object')
  const { jkt, 'x5t#S256': x5t } = cnf as Record<string, unknown>
  if (jkt === undefined && x5t === undefined) return undefined
  if (jkt !== undefined && (typeof jkt !== 'string' || jkt === ''))
    invalid('the token\'s "cnf.jkt" is not a non-empty string')
  if (x5t !== undefined && (typeof x5t !== 'string' || x5t === ''))
    invalid('the token\'s "cnf.x5t#S256" is not a non-empty string')
  const confirmation: Confirmation = {}
  if (jkt !== undefined) confirmation.jkt = jkt as string
  if (x5t !== undefined) confirmation['x5t#S256'] = x5t as string
  return confirmation
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
  const audiences = rules.audiences
  if (aud === undefined && audiences !== null) invalid('the token has no "aud" claim')
  const audience =
    typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud.filter((a) => typeof a === 'string') : []
  if (audiences !== null && !audiences.some((a) => audience.includes(a)))
    invalid('the token is not meant for this audience')

  const exp = numericDate(claims, 'exp')
  if (exp === undefined && jwt) invalid('the token has no "exp" claim')
  if (exp !== undefined && exp <= nowSec - tolerance) invalid('the token has expired')
  const nbf = numericDate(claims, 'nbf')
  if (nbf !== undefined && nbf > nowSec + tolerance)
    invalid('the token is not valid yet ("nbf" is in the future)')
  const iat = numericDate(claims, 'iat')
  if (iat !== undefined && iat > nowSec + tolerance) invalid('the token was issued in the future ("iat")')

  const clientId = clientIdFrom(claims, rules.clientIdClaims)
  if (rules.clientIds !== undefined && !rules.clientIds.has(clientId))
    invalid('the token was issued to a client that is not allowed here')
  const scopes = scopesFrom(claims, rules.scopeClaims)
  const confirmation = confirmationFrom(claims)

  const principal: Principal = {
    clientId,
    subject: optionalString(claims, 'sub'),
    scopes,
    audience,
    issuer,
    expiresAt: exp === undefined ? Number.POSITIVE_INFINITY : exp * 1000,
    jti: optionalString(claims, 'jti'),
    claims,
    source: from.source,
  }
  // Only bound tokens carry the member, so a bearer token's principal is what it always was.
  if (confirmation !== undefined) principal.confirmation = confirmation
  return deepFreeze(principal)
}
