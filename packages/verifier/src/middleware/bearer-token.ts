/**
 * Finds the access token of a request the way RFC 6750 §2 allows this middleware to: only from
 * `Authorization: Bearer <token>`. Any other way of sending one, or more than one credential, is a
 * malformed request (400 `invalid_request`), never a token that is silently ignored or accepted.
 *
 * @module middleware/bearer-token
 */
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

/**
 * Returns the bearer token of the request, or `undefined` when it carries no bearer credentials
 * at all (no `Authorization` header, or one of another scheme such as `Basic`).
 *
 * @throws {InvalidRequestError} several credentials, a token in the query string or form body, or
 *   an `Authorization: Bearer` header that is not exactly one b64token. Messages never quote the
 *   header.
 */
export function readBearerToken(credentials: BearerCredentials): string | undefined {
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
  // The scheme is case-insensitive (RFC 9110 §11.1); anything but Bearer is "no bearer credentials".
  if (header.length < 6 || header.slice(0, 6).toLowerCase() !== 'bearer') return undefined
  if (header.length > 6 && TCHAR.test(header[6]!)) return undefined
  let start = 6
  while (header.charCodeAt(start) === 32) start++
  // RFC 6750 §2.1: credentials = "Bearer" 1*SP b64token
  if (start === 6 || start === header.length) {
    throw new InvalidRequestError('the Authorization header has the Bearer scheme but no token after it')
  }
  let end = header.length
  while (end > start && (header.charCodeAt(end - 1) === 32 || header.charCodeAt(end - 1) === 9)) end--
  const token = header.slice(start, end)
  if (!isB64Token(token)) {
    throw new InvalidRequestError(
      'the Authorization header does not hold exactly one bearer token (RFC 6750 section 2.1)',
    )
  }
  return token
}
