/**
 * A circuit breaker for one upstream endpoint: after a failed call, further calls fail fast for a
 * cooldown instead of each sending its own request, so that an outage is not met with a request per
 * incoming API call. After the cooldown one call is let through as a probe; callers arriving while
 * it runs wait for its outcome, and its success closes the breaker.
 *
 * @module failure-cooldown
 */
import { TemporarilyUnavailableError } from '@oauth-m2m/core'

/** Fails calls fast for `cooldownMs` after a failure, then lets one probe through. */
export class FailureCooldown {
  readonly #cooldownMs: number
  readonly #endpointName: string
  readonly #now: () => number
  #lastFailure: { cause: unknown; atMs: number } | undefined
  /** The probe in flight, settled (never rejected) once its outcome is recorded. */
  #probe: Promise<void> | undefined

  /**
   * @param cooldownMs - How long calls fail fast after a failure, in milliseconds; 0 disables.
   * @param endpointName - What is called, for the fail-fast message (e.g. `the introspection endpoint`).
   * @param now - Clock, in epoch milliseconds. Default `Date.now`.
   */
  constructor(cooldownMs: number, endpointName: string, now: () => number = () => Date.now()) {
    this.#cooldownMs = cooldownMs
    this.#endpointName = endpointName
    this.#now = now
  }

  /**
   * Runs `call` unless a recent failure says not to.
   *
   * @throws {TemporarilyUnavailableError} within the cooldown of a failure, with that failure as
   *   `cause`; otherwise whatever `call` throws.
   */
  async run<T>(call: () => Promise<T>): Promise<T> {
    if (this.#cooldownMs === 0) return call()
    while (this.#probe !== undefined) await this.#probe
    const failure = this.#lastFailure
    if (failure !== undefined && this.#now() < failure.atMs + this.#cooldownMs) {
      throw new TemporarilyUnavailableError(
        `${this.#endpointName} failed recently; it is asked again after a ${this.#cooldownMs} ms cooldown`,
        { cause: failure.cause },
      )
    }
    const attempt = call()
    const recorded = attempt.then(
      () => {
        this.#lastFailure = undefined
      },
      (cause: unknown) => {
        this.#lastFailure = { cause, atMs: this.#now() }
      },
    )
    if (failure !== undefined) {
      this.#probe = recorded.finally(() => {
        this.#probe = undefined
      })
    }
    await recorded
    return attempt
  }
}
