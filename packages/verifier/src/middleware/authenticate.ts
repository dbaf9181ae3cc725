/**
 * The one decision every adapter shares: given what a request carries, either the caller's
 * {@link Principal} or the {@link Challenge} to answer with.
 *
 * @module middleware/authenticate
 */
import { BearerError } from '@oauth-m2m/core'
import type { Principal, VerifyOptions } from '../types.js'
import { type BearerCredentials, readBearerToken } from './bearer-token.js'
import { type Challenge, challengeFor } from './challenge.js'
import type { BearerAuthSettings } from './options.js'

/**
 * Reads the bearer token and verifies it. Resolves to the Principal, or to the Challenge to send
 * for a `BearerError` (or for missing credentials).
 *
 * Any other error is a bug (the `Verifier` contract allows only `BearerError`s) and is rethrown for
 * the framework's own error handling rather than dressed up as a 401 or 503.
 */
export async function authenticate(
  settings: BearerAuthSettings,
  credentials: BearerCredentials,
  verifyOptions: VerifyOptions | undefined,
): Promise<Principal | Challenge> {
  let token: string | undefined
  try {
    token = readBearerToken(credentials)
  } catch (error) {
    return challengeFor(error as BearerError, settings)
  }
  if (token === undefined) return challengeFor(undefined, settings)
  try {
    return await settings.verifier.verify(token, verifyOptions)
  } catch (error) {
    if (error instanceof BearerError) return challengeFor(error, settings)
    throw error
  }
}

/** `verify()` options for `scopes` (already checked) plus a cancellation signal. */
export function withSignal(
  options: VerifyOptions | undefined,
  signal: AbortSignal | undefined,
): VerifyOptions | undefined {
  if (signal === undefined) return options
  return options === undefined ? { signal } : { scopes: options.scopes ?? [], signal }
}
