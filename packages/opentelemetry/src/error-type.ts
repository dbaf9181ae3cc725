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
  const type = error?.code || error?.name || '_OTHER'
  return type.length <= MAX_ERROR_TYPE_LENGTH ? type : type.slice(0, MAX_ERROR_TYPE_LENGTH)
}
