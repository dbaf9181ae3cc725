/**
 * Finds the access token of a request the way RFC 6750 §2 and RFC 9449 §7.1 allow this middleware
 * to: only from `Authorization: Bearer <token>` or `Authorization: DPoP <token>`. Any other way of
 * sending one, or more than one credential, is a malformed request (400 `invalid_request`), never
 * a token that is silently ignored or accepted.
 *
 * @module middleware/bearer-token
 */
import type { X509Certificate } from 'node:crypto'
import { InvalidRequestError } from '@oauth-m2m/core'
import { isB64Token } from '@oauth-m2m/core/internal'

/** What a request carries that could hold an access token, as each framework adapter reads it. */
export interface BearerCredentials {
  /** The `Authorization` header value (the first one, or all of them joined by `, `). */
  authorization: string | null | undefined
  /** How many `Authorization` header lines arrived, when the adapter can tell. Default 1. */
  authorizationCount?: number
  /** The request target's query, from just after `?` (or including it); `undefined` when none. */
  query?: string | undefined
  /** Whether a form body the framework has already parsed holds `access_token`. */
  bodyHasToken?: boolean
  /** The `DPoP` header value (the first one, or all of them joined by `, `). */
  dpop?: string | null | undefined
  /**
   * How many `DPoP` header lines arrived, when the adapter can tell. Default 1. A `dpop` that
   * holds a comma counts as two whatever this says (proofs never do: it is how several are joined).
   */
  dpopCount?: number
  /** The request's method. */
  method?: string
  /**
   * The URL the client sent the request to, rebuilt by the adapter; only called for the DPoP
   * scheme, whose proof must name it.
   *
   * @throws {InvalidRequestError} when it cannot be rebuilt (no Host header, a target that is not a path).
   */
  url?: () => string
  /**
   * The client certificate the request came with (TLS peer, or a trusted proxy's RFC 9440 header),
   * for certificate-bound tokens; `undefined` when none.
   */
  clientCertificate?: X509Certificate | undefined
}

/** The access token of a request and the scheme it came with. */
export interface PresentedToken {
  scheme: 'Bearer' | 'DPoP'
  token: string
}

// RFC 9110 §5.6.2 tchar: a scheme name only ends where a non-tchar starts.
const TCHAR = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]$/

/** Whether the raw query string names an `access_token` parameter (RFC 6750 §2.3). */
export function queryHasAccessToken(query: string): boolean {
  return query.length > 1 && new URLSearchParams(query).has('access_token')
}

/** Counts the `Authorization` lines in node's `rawHeaders` (node itself keeps only the first). */
export function countAuthorizationHeaders(rawHeaders: readonly string[]): number {
  let count = 0
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!
    if (name.length === 13 && name.toLowerCase() === 'authorization') count++
  }
  return count
}

/** Counts the `DPoP` lines in node's `rawHeaders` (node joins duplicates of unknown headers). */
export function countDpopHeaders(rawHeaders: readonly string[]): number {
  let count = 0
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!
    if (name.length === 4 && name.toLowerCase() === 'dpop') count++
  }
  return count
}

// The length of the scheme name at the start of `header` when it is `scheme` (case-insensitive,
// RFC 9110 §11.1) followed by something that is not a tchar; 0 otherwise.
function schemeLength(header: string, scheme: string): number {
  const n = scheme.length
  if (header.length < n || header.slice(0, n).toLowerCase() !== scheme) return 0
  return header.length > n && TCHAR.test(header[n]!) ? 0 : n
}

/**
 * Returns the access token of the request with its scheme, `Bearer` or (when `acceptDpop`)
 * `DPoP`, or `undefined` when it carries no such credentials (no `Authorization` header, or one of
 * another scheme such as `Basic`).
 *
 * @throws {InvalidRequestError} several credentials, a token in the query string or form body, or
 *   an `Authorization: Bearer`/`DPoP` header that is not exactly one b64token (RFC 6750 §2.1,
 *   RFC 9449 §7.1's token68). Messages never quote the header.
 */
export function readAccessToken(
  credentials: BearerCredentials,
  acceptDpop = true,
): PresentedToken | undefined {
  if ((credentials.authorizationCount ?? 1) > 1) {
    throw new InvalidRequestError('the request carries more than one Authorization header')
  }
  if (credentials.query !== undefined && queryHasAccessToken(credentials.query)) {
    throw new InvalidRequestError(
      'access tokens are not accepted in the query string; use Authorization: Bearer',
    )
  }
  if (credentials.bodyHasToken === true) {
    throw new InvalidRequestError(
      'access tokens are not accepted in the request body; use Authorization: Bearer',
    )
  }
  const header = credentials.authorization
  if (!header) return undefined
  // Anything but Bearer (and DPoP) is "no credentials" of ours.
  let scheme: PresentedToken['scheme'] = 'Bearer'
  let length = schemeLength(header, 'bearer')
  if (length === 0 && acceptDpop) {
    scheme = 'DPoP'
    length = schemeLength(header, 'dpop')
  }
  if (length === 0) return undefined
  let start = length
  while (header.charCodeAt(start) === 32) start++
  // RFC 6750 §2.1: credentials = "Bearer" 1*SP b64token; RFC 9449 §7.1 the same with token68.
  if (start === length || start === header.length) {
    throw new InvalidRequestError(`the Authorization header has the ${scheme} scheme but no token after it`)
  }
  let end = header.length
  while (end > start && (header.charCodeAt(end - 1) === 32 || header.charCodeAt(end - 1) === 9)) end--
  const token = header.slice(start, end)
  if (!isB64Token(token)) {
    throw new InvalidRequestError(
      scheme === 'Bearer'
        ? 'the Authorization header does not hold exactly one bearer token (RFC 6750 section 2.1)'
        : 'the Authorization header does not hold exactly one DPoP-bound token (RFC 9449 section 7.1)',
    )
  }
  return { scheme, token }
}
