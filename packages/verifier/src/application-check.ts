/**
 * The application's own claim rule (`createVerifier({ check })`), run on a principal that passed
 * every built-in check, with its failures turned into what a resource server may answer.
 *
 * @module application-check
 */
import { BearerError, InvalidTokenError } from '@oauth-m2m/core'
import type { Principal } from './types.js'

/** See {@link VerifierOptions.check}. */
export type ApplicationCheck = (
  claims: Readonly<Record<string, unknown>>,
  principal: Principal,
) => void | Promise<void>

/** The description of a token the application's check refused, whatever it threw. */
export const CHECK_REFUSED_DESCRIPTION = "the token was refused by the application's check"

/**
 * Runs `check` on `principal`.
 *
 * @throws {BearerError} the one `check` threw, which keeps its own answer (an
 *   `InsufficientScopeError` stays a 403, a `TemporarilyUnavailableError` a 503).
 * @throws {InvalidTokenError} with {@link CHECK_REFUSED_DESCRIPTION} for anything else `check`
 *   throws or rejects with. What was thrown is its `cause`, for the server's logs: its message may
 *   name internals and never reaches the caller (the middleware answers with the message only).
 */
export async function runApplicationCheck(check: ApplicationCheck, principal: Principal): Promise<void> {
  try {
    await check(principal.claims, principal)
  } catch (err) {
    if (err instanceof BearerError) throw err
    throw new InvalidTokenError(CHECK_REFUSED_DESCRIPTION, { cause: err })
  }
}
