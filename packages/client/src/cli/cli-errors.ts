/**
 * The failures that belong to `m2m-token` itself rather than to the client library: a wrong
 * command line, an unusable cache directory, an access token `--decode` cannot read. Each has a
 * stable `code` beside the library's `OAuthM2MErrorCode`s and never carries a secret or a token.
 *
 * @module cli/cli-errors
 */
import type { EXIT_CODES } from './exit-codes.js'

/**
 * The `code`s `m2m-token` prints under `--json` for its own failures, beside the library's
 * `OAuthM2MErrorCode`s: `ERR_USAGE` (exit 2), `ERR_CACHE` (exit 6, and cache warnings),
 * `ERR_NOT_A_JWT` (exit 8), `ERR_UNEXPECTED` (exit 1, a failure that is no oauth-m2m error). A
 * code never changes between releases.
 */
export type CliErrorCode = 'ERR_USAGE' | 'ERR_CACHE' | 'ERR_NOT_A_JWT' | 'ERR_UNEXPECTED'

/** Base of the CLI's own failures: a stable `code` and the exit status it ends with. */
export abstract class CliError extends Error {
  /** Stable, machine-readable identifier of the failure. */
  abstract readonly code: Exclude<CliErrorCode, 'ERR_UNEXPECTED'>
  /** Which of the exit statuses the failure ends with. */
  abstract readonly exit: keyof typeof EXIT_CODES

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = new.target.name
  }
}

/** The command line is wrong (exit 2). */
export class UsageError extends CliError {
  readonly code = 'ERR_USAGE'
  readonly exit = 'usage'
}

/** The on-disk token cache cannot be used (exit 6). */
export class CacheError extends CliError {
  readonly code = 'ERR_CACHE'
  readonly exit = 'cache'
}

/** `--decode` got an access token that is not a signed JWT (exit 8). */
export class NotAJwtError extends CliError {
  readonly code = 'ERR_NOT_A_JWT'
  readonly exit = 'notAJwt'

  constructor() {
    super('the access token is not a signed JWT (it is opaque or encrypted): nothing to decode')
  }
}
