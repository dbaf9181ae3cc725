/**
 * A failure `m2m-test-server` reports as one line on stderr, without a stack trace.
 *
 * @module cli/cli-error
 */

/** Exit code of a usage error (an unknown option, a bad value). */
export const USAGE_EXIT_CODE = 2

/** A failure to report on stderr with an exit code. */
export class CliError extends Error {
  /** {@link USAGE_EXIT_CODE} for a usage error, 1 otherwise. */
  readonly exitCode: number

  constructor(message: string, exitCode = 1) {
    super(message)
    this.name = 'CliError'
    this.exitCode = exitCode
  }
}
