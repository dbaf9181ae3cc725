/**
 * The `WWW-Authenticate` challenge of RFC 6750 §3 for an answer to a bearer-token request.
 *
 * @module www-authenticate
 */
import { type BearerError, InsufficientScopeError } from '@oauth-m2m/core'

/** Options of {@link toWWWAuthenticate}. */
export interface WWWAuthenticateOptions {
  /** The protection space, sent as `realm="…"` first. Omitted when not given. */
  realm?: string
  /**
   * Scopes to advertise in `scope="…"`. Default: the required scopes of an
   * `InsufficientScopeError`, none otherwise.
   */
  scope?: readonly string[]
}

// RFC 6750 §3: error_description is restricted to %x20-21 / %x23-5B / %x5D-7E and scope tokens to
// %x21 / %x23-5B / %x5D-7E, so neither ever needs escaping inside the quotes.
const DESCRIPTION_OUTSIDE_CHARSET = /[^\x20\x21\x23-\x5B\x5D-\x7E]/g
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/
const NON_PRINTABLE = /[^\x20-\x7E]/g
const MAX_DESCRIPTION_CHARS = 200

/** A quoted-string (RFC 9110 §5.6.4) of printable ASCII: a realm can never split the header. */
function quoted(value: string): string {
  return `"${value.replace(NON_PRINTABLE, '').replace(/[\\"]/g, '\\$&')}"`
}

function description(message: string): string {
  return message.replace(/"/g, "'").replace(DESCRIPTION_OUTSIDE_CHARSET, '').slice(0, MAX_DESCRIPTION_CHARS)
}

/**
 * Builds the value of a `WWW-Authenticate` header (RFC 6750 §3).
 *
 * - No error (the request carried no token): `Bearer realm="…"` with no error code, as §3.1 asks.
 * - An error: `Bearer realm="…", error="invalid_token", error_description="…"`; an
 *   `InsufficientScopeError` adds `scope="a b"` naming the required scopes.
 *
 * The description is the error's message (which never contains a token) reduced to the RFC's
 * character set; scope tokens outside the RFC's character set are left out rather than escaped.
 */
export function toWWWAuthenticate(error?: BearerError, options: WWWAuthenticateOptions = {}): string {
  const params: string[] = []
  if (options.realm !== undefined) params.push(`realm=${quoted(options.realm)}`)
  if (error) {
    params.push(`error="${error.error}"`)
    const text = description(error.message)
    if (text) params.push(`error_description="${text}"`)
  }
  const scopes = options.scope ?? (error instanceof InsufficientScopeError ? error.requiredScopes : [])
  const scope = scopes.filter((s) => SCOPE_TOKEN.test(s)).join(' ')
  if (scope) params.push(`scope="${scope}"`)
  return params.length === 0 ? 'Bearer' : `Bearer ${params.join(', ')}`
}
