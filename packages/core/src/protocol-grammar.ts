/**
 * The character-level rules of OAuth 2.0 that every package checks, written once: scope tokens
 * (RFC 6749 §3.3), the error-description character set (RFC 6749 §5.2, RFC 6750 §3) and absolute
 * URIs without a fragment (RFC 8707 §2, RFC 3986 §4.3).
 *
 * @module protocol-grammar
 */

/** RFC 6749 §3.3: `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`. */
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/
/** RFC 6749 §5.2 / RFC 6750 §3: `error_description` is `*( %x20-21 / %x23-5B / %x5D-7E )`. */
const OUTSIDE_ERROR_DESCRIPTION = /[^\x20\x21\x23-\x5b\x5d-\x7e]/g
/** RFC 6750 §2.1: `b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/
/** The error-description set again, for a whole value: printable ASCII without `"` and `\`. */
const ERROR_DESCRIPTION_TEXT = /^[\x20\x21\x23-\x5b\x5d-\x7e]+$/
/** RFC 3986 §3.1: `scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )`, then `:`. */
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/

/** True when `value` is one scope token (RFC 6749 §3.3): printable ASCII without space, `"` or `\`. */
export function isScopeToken(value: string): boolean {
  return SCOPE_TOKEN.test(value)
}

/**
 * The tokens of a `scope` parameter value (RFC 6749 §3.3: tokens separated by single spaces), or
 * `undefined` when the value does not follow the grammar: an empty value, a doubled, leading or
 * trailing space, or a character outside the scope-token set. Duplicates are kept.
 */
export function parseScopeParameter(value: string): string[] | undefined {
  const tokens = value.split(' ')
  for (const token of tokens) if (!SCOPE_TOKEN.test(token)) return undefined
  return tokens
}

/**
 * `text` reduced to the `error_description` character set (RFC 6749 §5.2, RFC 6750 §3): `"`
 * becomes `'`, every other character outside the set (control characters, `\`, non-ASCII) is
 * dropped, and the result is cut to `maxChars`. The result never needs escaping inside a quoted
 * header parameter.
 */
export function toErrorDescription(text: string, maxChars = Number.POSITIVE_INFINITY): string {
  const allowed = text.replaceAll('"', "'").replace(OUTSIDE_ERROR_DESCRIPTION, '')
  return allowed.length > maxChars ? allowed.slice(0, maxChars) : allowed
}

/**
 * True when `value` is non-empty and entirely in the `error_description` character set (RFC 6749
 * §5.2): printable ASCII without `"` or `\`. Such a value can stand inside a quoted header
 * parameter (a `WWW-Authenticate` realm, say) without escaping.
 */
export function isErrorDescriptionText(value: string): boolean {
  return ERROR_DESCRIPTION_TEXT.test(value)
}

/** True when `value` is an RFC 6750 §2.1 `b64token`: the syntax of a Bearer (and DPoP) access token. */
export function isB64Token(value: string): boolean {
  return B64TOKEN.test(value)
}

/**
 * True when `value` is an absolute URI (RFC 3986 §4.3: a scheme, no fragment), as RFC 8707 §2
 * requires of a resource indicator. WHATWG URL parsing alone is not enough: it accepts a `#`
 * and, for some schemes, forms RFC 3986 does not.
 */
export function isAbsoluteUriWithoutFragment(value: string): boolean {
  return !value.includes('#') && SCHEME.test(value) && URL.canParse(value)
}
