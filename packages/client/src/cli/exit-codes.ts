/**
 * The exit status of `m2m-token` for every outcome, and which failure gets which: a script
 * branches on the number (retry on 5, fix the credentials on 4) without parsing messages.
 *
 * @module cli/exit-codes
 */
import { OAuthM2MError } from '@oauth-m2m/core'
import { isRetryable } from '../retry.js'
import { CliError } from './cli-errors.js'

/** Every exit status `m2m-token` ends with. A number never changes meaning between releases. */
export const EXIT_CODES = Object.freeze({
  /** The token (or the `--json` / `--decode` output) is on stdout. */
  ok: 0,
  /** Something unexpected failed: a bug, to be reported. */
  unexpected: 1,
  /** The command line is wrong: an unknown or missing flag, a bad value, flags that exclude each other. */
  usage: 2,
  /**
   * The flags are well formed but what they point at is not usable: an unset secret variable, an
   * unreadable secret or key file, empty standard input, an `http:` URL to a host that is not
   * loopback without `--allow-insecure-http`, an invalid URL or scope.
   */
  configuration: 3,
  /** The authorization server refused: an OAuth error answer (`invalid_client`, `invalid_scope`, …). */
  refused: 4,
  /**
   * No answer in time: a network error, a timeout (`--timeout`), or the server unavailable (HTTP
   * 408, 429 or 5xx) after the retries. Trying again later may succeed.
   */
  unavailable: 5,
  /** `--cache` was given and the cache directory cannot be used. */
  cache: 6,
  /**
   * The server answered something that is not a token response: an HTTP error without an OAuth
   * error object, a body that is not the expected JSON, discovery metadata that is wrong.
   */
  badAnswer: 7,
  /** `--decode` got an access token that is not a signed JWT (opaque or encrypted). */
  notAJwt: 8,
} as const)

/** One of {@link EXIT_CODES}. */
export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES]

/** Client error codes that mean the server's answer was unusable (exit 7) when not transient. */
const BAD_ANSWER_CODES: ReadonlySet<string> = new Set(['ERR_HTTP', 'ERR_DISCOVERY', 'ERR_DPOP_NOT_BOUND'])

/** The exit status for a failure. */
export function exitCodeFor(error: unknown): ExitCode {
  if (error instanceof CliError) return EXIT_CODES[error.exit]
  if (!(error instanceof OAuthM2MError)) return EXIT_CODES.unexpected
  // What the client would retry (network, timeout, 408/429/5xx, a discovery that failed for
  // those reasons) is what a script may retry later: one status for all of it.
  if (isRetryable(error) || error.code === 'ERR_RETRY_LATER') return EXIT_CODES.unavailable
  if (error.code === 'ERR_OAUTH_RESPONSE') return EXIT_CODES.refused
  if (error.code === 'ERR_CONFIGURATION') return EXIT_CODES.configuration
  if (BAD_ANSWER_CODES.has(error.code)) return EXIT_CODES.badAnswer
  return EXIT_CODES.unexpected
}
