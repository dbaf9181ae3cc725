/**
 * What `m2m-token` writes on stderr: a failure (one line of text, or under `--json` one JSON
 * line `{"error":{"code","message",…}}`) and cache warnings. Every line passes through a redactor
 * holding the secret read and the token obtained: whatever a server echoed or a library put in a
 * message, neither reaches the terminal or a CI log.
 *
 * @module cli/cli-report
 */
import { HttpError, OAuthM2MError, OAuthResponseError } from '@oauth-m2m/core'
import { createRedactor, NO_REDACTION, type Redactor } from '@oauth-m2m/core/internal'
import { CliError, type CliErrorCode, UsageError } from './cli-errors.js'

/** A stream written with text: process.stderr, or a test's collector. */
export interface TextSink {
  write(text: string): unknown
}

/** Shortest credential the CLI's own redaction looks for, in characters. */
export const MIN_REDACTED_LENGTH = 8

/** The JSON object printed for a failure under `--json`. */
export interface JsonFailure {
  error: {
    /** An `OAuthM2MErrorCode` of the library, or a {@link CliErrorCode}. */
    code: string
    message: string
    /** The RFC 6749 §5.2 `error` of a refusal (`invalid_client`, …). */
    oauthError?: string
    /** HTTP status of the answer, when one arrived. */
    status?: number
  }
}

/** Writes failures and warnings on stderr, as text or as JSON lines. */
export class CliReport {
  readonly #stderr: TextSink
  readonly #json: boolean
  #sensitive: string[] = []
  #redactor: Redactor = NO_REDACTION

  constructor(stderr: TextSink, options: { json: boolean }) {
    this.#stderr = stderr
    this.#json = options.json
  }

  /**
   * Adds credential strings (a secret, the access token) that must never be printed. This is a
   * second guard: server text is already scrubbed by the library, and the CLI's own messages never
   * quote a credential. Strings shorter than {@link MIN_REDACTED_LENGTH} are left out of it, since
   * a test secret such as `s` would otherwise blank out every `s` of every message.
   */
  protect(values: readonly string[]): void {
    this.#sensitive = [...this.#sensitive, ...values.filter((value) => value.length >= MIN_REDACTED_LENGTH)]
    this.#redactor = createRedactor(this.#sensitive)
  }

  /** Reports the failure that ends the run. */
  failure(error: unknown): void {
    const described = describe(error)
    if (this.#json) {
      this.#jsonLine({ error: described } satisfies JsonFailure)
      return
    }
    let text: string
    if (error instanceof OAuthResponseError) {
      const description = error.errorDescription ? `: ${error.errorDescription}` : ''
      text = `${error.error}${description} (HTTP ${error.status})`
    } else if (error instanceof UsageError) {
      text = `${error.message}\n(see m2m-token --help)`
    } else if (described.code === 'ERR_UNEXPECTED') {
      text = `unexpected error: ${described.message}`
    } else {
      text = described.message
    }
    this.#line(`m2m-token: ${text}`)
  }

  /** Reports something that went wrong without ending the run (the token is still printed). */
  warning(code: CliErrorCode, message: string): void {
    if (this.#json) this.#jsonLine({ warning: { code, message } })
    else this.#line(`m2m-token: warning: ${message}`)
  }

  #line(text: string): void {
    this.#stderr.write(`${this.#redactor.redact(text)}\n`)
  }

  /** One JSON line, redacted before it is serialised: JSON escapes would hide a secret from the redactor. */
  #jsonLine(value: Record<string, Record<string, unknown>>): void {
    const redacted = Object.fromEntries(
      Object.entries(value).map(([name, fields]) => [
        name,
        Object.fromEntries(
          Object.entries(fields).map(([field, v]) => [
            field,
            typeof v === 'string' ? this.#redactor.redact(v) : v,
          ]),
        ),
      ]),
    )
    this.#stderr.write(`${JSON.stringify(redacted)}\n`)
  }
}

/** The code, message and public details of a failure: what `--json` prints. */
function describe(error: unknown): JsonFailure['error'] {
  if (error instanceof OAuthResponseError) {
    return { code: error.code, message: error.message, oauthError: error.error, status: error.status }
  }
  if (error instanceof HttpError && error.status !== undefined) {
    return { code: error.code, message: error.message, status: error.status }
  }
  if (error instanceof OAuthM2MError || error instanceof CliError)
    return { code: error.code, message: error.message }
  return { code: 'ERR_UNEXPECTED', message: error instanceof Error ? error.message : String(error) }
}
