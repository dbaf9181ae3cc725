/**
 * The JOSE header rules for RFC 9068 access tokens, checked before any key is looked up.
 *
 * Only `alg`, `kid`, `typ`, `cty`, `crit` and `b64` are ever read. `jku`, `x5u`, `jwk` and `x5c`
 * are ignored: the key always comes from the issuer's configured JWKS, never from the token.
 *
 * @module jwt-header
 */
import { InvalidTokenError } from '@oauth-m2m/core'
import type { JwsAlgorithm } from './algorithms.js'

/**
 * How the `typ` header is judged.
 * - `strict`: must be `at+jwt` (RFC 9068 §2.1), with or without the `application/` prefix, in any
 *   letter case (media types are case-insensitive).
 * - `lenient`: also accepts a missing `typ` or `JWT`, for issuers that predate RFC 9068. An ID
 *   token then passes the header check, so only use it when `audience` is not a client id.
 * Other types (`dpop+jwt`, `logout+jwt`, `secevent+jwt`, …) are refused either way.
 */
export type TypPolicy = 'strict' | 'lenient'

/** The header members the rest of the verification needs. */
export interface AccessTokenHeader {
  alg: JwsAlgorithm
  kid: string | undefined
}

// jose's normalisation: lower-case, and a bare subtype means `application/<subtype>`.
function normalizeMediaType(value: string): string {
  const lower = value.toLowerCase()
  return lower.includes('/') ? lower : `application/${lower}`
}

const AT_JWT = 'application/at+jwt'
const PLAIN_JWT = 'application/jwt'

function checkTyp(typ: unknown, policy: TypPolicy): void {
  if (typ === undefined) {
    if (policy === 'strict') throw new InvalidTokenError('the token has no "typ" header; expected at+jwt')
    return
  }
  if (typeof typ !== 'string') throw new InvalidTokenError('the token\'s "typ" header is not a string')
  const normalized = normalizeMediaType(typ)
  if (normalized === AT_JWT) return
  if (policy === 'lenient' && normalized === PLAIN_JWT) return
  throw new InvalidTokenError('the token is not an access token ("typ" is not at+jwt)')
}

// RFC 7515 §4.1.11. `b64` (RFC 7797) is the one extension understood, and only to refuse
// unencoded payloads, which a JWT may never use.
const UNDERSTOOD_CRITICAL = new Set(['b64'])

function checkCrit(header: Record<string, unknown>): void {
  const crit = header.crit
  if (crit === undefined) return
  if (
    !Array.isArray(crit) ||
    crit.length === 0 ||
    crit.some((name) => typeof name !== 'string' || name === '')
  ) {
    throw new InvalidTokenError('the token\'s "crit" header is malformed')
  }
  for (const name of crit as string[]) {
    if (!UNDERSTOOD_CRITICAL.has(name)) {
      throw new InvalidTokenError('the token requires a header extension this verifier does not understand')
    }
    if (header[name] === undefined) throw new InvalidTokenError('the token\'s "crit" names an absent header')
  }
  if (crit.includes('b64') && typeof header.b64 !== 'boolean') {
    throw new InvalidTokenError('the token\'s "b64" header is not a boolean')
  }
}

/**
 * Checks the protected header of an access token against the policy and the allowlist.
 *
 * @throws {InvalidTokenError} naming the first rule broken.
 */
export function checkAccessTokenHeader(
  header: Record<string, unknown>,
  allowed: ReadonlySet<string>,
  typPolicy: TypPolicy,
): AccessTokenHeader {
  const { alg, kid } = header
  if (typeof alg !== 'string' || alg === '') throw new InvalidTokenError('the token has no "alg" header')
  if (!allowed.has(alg))
    throw new InvalidTokenError('the token is signed with an algorithm that is not allowed')
  checkCrit(header)
  // Refused even outside `crit`, where RFC 7797 says to ignore it: nobody signs an access token
  // with `b64: false` by accident.
  if (header.b64 === false) throw new InvalidTokenError('the token uses an unencoded payload ("b64": false)')
  checkTyp(header.typ, typPolicy)
  if (typeof header.cty === 'string' && normalizeMediaType(header.cty) === PLAIN_JWT) {
    throw new InvalidTokenError('nested JWTs ("cty": "JWT") are not accepted')
  }
  if (kid !== undefined && typeof kid !== 'string')
    throw new InvalidTokenError('the token\'s "kid" header is not a string')
  return { alg: alg as JwsAlgorithm, kid }
}
