/**
 * The one decision every adapter shares: given what a request carries, either the caller's
 * {@link Principal} or the {@link Challenge} to answer with. Split in a synchronous half (read the
 * token) and an asynchronous half (verify it), so the node:http adapter can go straight from the
 * one to the other without extra promise hops on its hot path.
 *
 * @module middleware/authenticate
 */
import type { BearerError } from '@oauth-m2m/core'
import type { Principal, VerifyOptions } from '../types.js'
import { type BearerCredentials, readBearerToken } from './bearer-token.js'
import { Challenge, challengeFor, isBearerError } from './challenge.js'
import type { BearerAuthSettings } from './options.js'

/** The bearer token of the request, or the Challenge for a malformed request or no credentials. */
export function tokenOrChallenge(
  settings: BearerAuthSettings,
  credentials: BearerCredentials,
): string | Challenge {
  let token: string | undefined
  try {
    token = readBearerToken(credentials)
  } catch (error) {
    return challengeFor(error as BearerError, settings)
  }
  return token === undefined ? challengeFor(undefined, settings) : token
}

/**
 * The Challenge for an error `verify()` rejected with. Any error that is not a `BearerError` is a
 * bug (the `Verifier` contract allows only `BearerError`s) and is rethrown for the framework's own
 * error handling rather than dressed up as a 401 or 503.
 */
export function challengeForRejection(settings: BearerAuthSettings, error: unknown): Challenge {
  if (isBearerError(error)) return challengeFor(error, settings)
  throw error
}

/**
 * Reads the bearer token and verifies it. Resolves to the Principal, or to the Challenge to send;
 * rejects only with an unexpected (non-`BearerError`) failure.
 */
export async function authenticate(
  settings: BearerAuthSettings,
  credentials: BearerCredentials,
  verifyOptions: VerifyOptions | undefined,
): Promise<Principal | Challenge> {
  const token = tokenOrChallenge(settings, credentials)
  if (token instanceof Challenge) return token
  try {
    return await settings.verifier.verify(token, verifyOptions)
  } catch (error) {
    return challengeForRejection(settings, error)
  }
}

/** `verify()` options for `requiredScopes` (already checked) plus a cancellation signal. */
export function withSignal(
  options: VerifyOptions | undefined,
  signal: AbortSignal | undefined,
): VerifyOptions | undefined {
  if (signal === undefined) return options
  return options === undefined ? { signal } : { requiredScopes: options.requiredScopes ?? [], signal }
}
