/**
 * The `WWW-Authenticate` challenge of RFC 6750 §3 for an answer to a bearer-token request, and its
 * `DPoP` counterpart of RFC 9449 §7.1.
 *
 * @module www-authenticate
 */
import { type BearerError, InsufficientScopeError } from '@oauth-m2m/core'
import { isScopeToken, toErrorDescription } from '@oauth-m2m/core/internal'

/** Options of {@link toWWWAuthenticate}. */
export interface WWWAuthenticateOptions {
  /** The protection space, sent as `realm="…"` first. Omitted when not given. */
  realm?: string
  /**
   * Scopes to advertise in `scope="…"`. Default: the required scopes of an
   * `InsufficientScopeError`, none otherwise.
   */
  scope?: readonly string[]
  /**
   * The URL of the protected resource's metadata document, sent last as `resource_metadata="…"`
   * (RFC 9728 §5.1). Omitted when not given.
   */
  resourceMetadata?: string
  /** The scheme challenged: `Bearer` (RFC 6750, the default) or `DPoP` (RFC 9449 §7.1). */
  scheme?: 'Bearer' | 'DPoP'
  /**
   * `DPoP` only: the proof algorithms accepted, sent as `algs="…"` (RFC 9449 §7.1) after the
   * scope. Left out when empty.
   */
  algs?: readonly string[]
}

// RFC 7518 algorithm names are tokens; anything else would need escaping and is left out.
const ALG_NAME = /^[A-Za-z0-9.+\-_]+$/

// RFC 6750 §3 restricts error_description and scope tokens to character sets without `"` and `\`,
// so neither ever needs escaping inside the quotes.
const NON_PRINTABLE = /[^\x20-\x7E]/g
const MAX_DESCRIPTION_CHARS = 200

/** A quoted-string (RFC 9110 §5.6.4) of printable ASCII: a realm can never split the header. */
function quoted(value: string): string {
  return `"${value.replace(NON_PRINTABLE, '').replace(/[\\"]/g, '\\$&')}"`
}

/**
 * Builds one challenge of a `WWW-Authenticate` header (RFC 6750 §3, RFC 9449 §7.1).
 *
 * - No error (the request carried no token): `Bearer realm="…"` with no error code, as §3.1 asks.
 * - An error: `Bearer realm="…", error="invalid_token", error_description="…"`; an
 *   `InsufficientScopeError` adds `scope="a b"` naming the required scopes.
 * - `resourceMetadata` adds `resource_metadata="…"` to either (RFC 9728 §5.1).
 * - `scheme: 'DPoP'` gives the same challenge for the DPoP scheme, with `algs="ES256 …"` when
 *   `algs` is given: `DPoP error="invalid_dpop_proof", error_description="…", algs="ES256"`.
 *
 * The description is the error's message (which never contains a token) reduced to the RFC's
 * character set; scope tokens outside the RFC's character set are left out rather than escaped.
 */
export function toWWWAuthenticate(error?: BearerError, options: WWWAuthenticateOptions = {}): string {
  const params: string[] = []
  if (options.realm !== undefined) params.push(`realm=${quoted(options.realm)}`)
  if (error) {
    params.push(`error="${error.error}"`)
    const text = toErrorDescription(error.message, MAX_DESCRIPTION_CHARS)
    if (text) params.push(`error_description="${text}"`)
  }
  const scopes = options.scope ?? (error instanceof InsufficientScopeError ? error.requiredScopes : [])
  const scope = scopes.filter(isScopeToken).join(' ')
  if (scope) params.push(`scope="${scope}"`)
  const scheme = options.scheme ?? 'Bearer'
  const algs = scheme === 'DPoP' ? (options.algs ?? []).filter((alg) => ALG_NAME.test(alg)).join(' ') : ''
  if (algs) params.push(`algs="${algs}"`)
  if (options.resourceMetadata !== undefined)
    params.push(`resource_metadata=${quoted(options.resourceMetadata)}`)
  return params.length === 0 ? scheme : `${scheme} ${params.join(', ')}`
}
