/**
 * The form in which a DPoP proof's `htu` and the request's URL are compared (RFC 9449 §4.3).
 *
 * @module dpop/htu
 */

// RFC 3986 §2: unreserved, reserved and "%". Anything else (space, controls, non-ASCII, `\`, `"`,
// `<`, `{`…) is not a URI; the WHATWG parser would quietly repair it (drop tabs, turn `\` into
// `/`), and two different strings must not be judged the same URL that way. Two exceptions, `|`
// and `^`: WHATWG URLs (fetch, undici) leave them raw in the path, so a client's own URL holds
// them; they are percent-encoded below, which is what they mean.
const URI_CHARS = /^[A-Za-z0-9\-._~:/[\]@!$&'()*+,;=%|^]+$/
// The query and fragment are not compared (RFC 9449 §4.3), so nothing in them can make a URL
// unusable: WHATWG URLs leave `{ } | ^` raw there too.
const QUERY_OR_FRAGMENT = /[?#]/
const WHATWG_RAW_IN_PATH = /[|^]/g
const PERCENT = /%[0-9A-Fa-f]{2}/g
const UNRESERVED = /[A-Za-z0-9\-._~]/

// RFC 3986 §6.2.2.1 and §6.2.2.2: an escaped unreserved character is the character itself, and
// the hex digits of any other escape are upper case.
function percentEncode(char: string): string {
  return `%${char.charCodeAt(0).toString(16).toUpperCase()}`
}

function normalizePercent(triplet: string): string {
  const char = String.fromCharCode(Number.parseInt(triplet.slice(1), 16))
  return UNRESERVED.test(char) ? char : triplet.toUpperCase()
}

/**
 * The comparison form of an `htu` value or of a request's URL: the absolute `http:`/`https:` URL
 * without its query and fragment (RFC 9449 §4.3), after syntax-based and scheme-based
 * normalisation (RFC 3986 §6.2.2, §6.2.3): scheme and host in lower case, the default port
 * removed, an empty path as `/`, dot segments resolved, percent-escapes of unreserved characters
 * decoded and the others in upper case, and `|` and `^` (which WHATWG URLs leave raw in the path)
 * percent-encoded. The query and fragment are dropped before any check of characters.
 *
 * @param url - an absolute URL.
 * @returns the comparison form, or `undefined` when `url` is not an absolute `http:` or `https:`
 *   URI (also when it holds characters a URI cannot have, or user information, which RFC 9110
 *   §4.2.4 forbids in http URIs).
 */
export function normalizeHtu(url: string | URL): string | undefined {
  const href = typeof url === 'string' ? url : url.href
  const end = href.search(QUERY_OR_FRAGMENT)
  const text = end === -1 ? href : href.slice(0, end)
  if (!URI_CHARS.test(text)) return undefined
  let parsed: URL
  try {
    parsed = new URL(text)
  } catch {
    return undefined
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return undefined
  if (parsed.username !== '' || parsed.password !== '') return undefined
  return `${parsed.protocol}//${parsed.host}${parsed.pathname.replace(WHATWG_RAW_IN_PATH, percentEncode).replace(PERCENT, normalizePercent)}`
}
