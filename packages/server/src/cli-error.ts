/**
 * The failures `m2m-server` reports on stderr in one line, without a stack trace, and the exit
 * codes it documents.
 *
 * @module cli-error
 */

/** The exit codes of `m2m-server`. */
export const EXIT_CODES = {
  /** Stopped by SIGTERM or SIGINT after every request in flight was answered; or `--help`, `--version`. */
  ok: 0,
  /**
   * A failure at start (unreadable or invalid config file or keys file, a port in use, Redis
   * unreachable, a missing optional package), or a shutdown that had to cut requests in flight.
   */
  failure: 1,
  /** The command line is wrong (unknown option, bad value, options that do not go together). */
  usage: 2,
} as const

/** A failure to report on stderr in one line, without a stack trace. Its message holds no secret. */
export class CliError extends Error {
  /** {@link EXIT_CODES}`.usage` for a usage error, else {@link EXIT_CODES}`.failure`. */
  readonly exitCode: number

  constructor(message: string, exitCode: number = EXIT_CODES.failure) {
    super(message)
    this.name = 'CliError'
    this.exitCode = exitCode
  }
}

/** ` (ENOENT)`, the system error code of a failed file operation, or `''`. */
export function fileErrorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' ? ` (${code})` : ''
}
