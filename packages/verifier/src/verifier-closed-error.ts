/**
 * The error of a verifier used after `close()`.
 *
 * @module verifier-closed-error
 */
import { BearerError } from '@oauth-m2m/core'

/**
 * `verify()` was called on a verifier after its `close()`, or a lookup it was waiting for was
 * abandoned by `close()`. Code `ERR_VERIFIER_CLOSED`.
 *
 * It is a `BearerError` answered like `temporarily_unavailable` (503): a closed verifier is a
 * server shutting down, so requests still arriving are not the caller's fault, and a load balancer
 * may send them elsewhere; every middleware adapter answers it that way rather than with a 500.
 */
export class VerifierClosedError extends BearerError {
  /** HTTP status to answer with: 503. */
  readonly status = 503
  /** Answered as `temporarily_unavailable`: the token may well be valid. */
  readonly error = 'temporarily_unavailable'

  constructor() {
    super('ERR_VERIFIER_CLOSED', 'the verifier is closed')
  }
}
