/**
 * `error.type` (OpenTelemetry semantic conventions) of an error as the packages report it: a
 * low-cardinality class, never the message, which may name a URL or a server's description.
 *
 * @module error-type
 */
import type { ErrorSummary } from '@oauth-m2m/core'

/** Longest `error.type` recorded: a foreign error's code or name is cut, to keep the value bounded. */
const MAX_ERROR_TYPE_LENGTH = 64

/** The error's stable `code` (`ERR_TIMEOUT`, `ECONNRESET`…), else its class name, else `_OTHER`. */
export function errorType(error: ErrorSummary | undefined): string {
  return bounded(error?.code || error?.name || '_OTHER')
}

/**
 * The OAuth `error` a server answered (`invalid_client`…) when there was one, which says more than
 * `ERR_OAUTH_RESPONSE`; else {@link errorType}. Cut like any other: the server chose the string.
 */
export function tokenErrorType(oauthError: string | undefined, error: ErrorSummary): string {
  return oauthError ? bounded(oauthError) : errorType(error)
}

function bounded(type: string): string {
  return type.length <= MAX_ERROR_TYPE_LENGTH ? type : type.slice(0, MAX_ERROR_TYPE_LENGTH)
}
