/**
 * The one decision every adapter shares: given what a request carries, either the caller's
 * {@link Principal} or the {@link Challenge} to answer with. Split in a synchronous half (read the
 * token, and the DPoP proof with the request's method and URL) and an asynchronous half (verify
 * them), so the node:http adapter can go straight from the one to the other without extra promise
 * hops on its hot path.
 *
 * @module middleware/authenticate
 */
import { type BearerError, InvalidDpopProofError } from '@oauth-m2m/core'
import type { Principal, VerifyOptions } from '../types.js'
import { type BearerCredentials, type PresentedToken, readAccessToken } from './bearer-token.js'
import { Challenge, challengeFor, isBearerError } from './challenge.js'
import type { BearerAuthSettings } from './options.js'

/** A token to verify, how it came, and the `verify()` options for it. */
export interface Presented extends PresentedToken {
  verifyOptions: VerifyOptions | undefined
}

function dpopOptions(
  credentials: BearerCredentials,
  verifyOptions: VerifyOptions | undefined,
): VerifyOptions {
  const dpop = credentials.dpop ?? undefined
  const lines = credentials.dpopCount ?? (dpop === undefined ? 0 : 1)
  // A proof never holds a comma: it is how several header lines become one value (RFC 9110
  // §5.3), so a comma-joined value is two headers whatever the adapter counted.
  const count = dpop?.includes(',') ? Math.max(lines, 2) : lines
  // RFC 9449 §4.3 rule 1: not more than one DPoP header. A malformed request: 400.
  if (count > 1)
    throw new InvalidDpopProofError('the request carries more than one DPoP header', { status: 400 })
  const url = credentials.url?.()
  if (url === undefined || credentials.method === undefined) {
    throw new TypeError('bearer auth: the adapter gave no method or URL for a DPoP request')
  }
  return { ...verifyOptions, dpop: { proof: dpop, method: credentials.method, url } }
}

/**
 * The token of the request with the options to verify it, or the Challenge for a malformed
 * request or no credentials of a scheme the verifier accepts. A `DPoP` scheme request to a
 * verifier that takes bearer tokens only is a request without credentials, as `Basic` is.
 */
export function presentedOrChallenge(
  settings: BearerAuthSettings,
  credentials: BearerCredentials,
  verifyOptions: VerifyOptions | undefined,
): Presented | Challenge {
  const dpopAccepted = (settings.dpop?.mode ?? 'disabled') !== 'disabled'
  let presented: PresentedToken | undefined
  try {
    presented = readAccessToken(credentials, dpopAccepted)
    if (presented === undefined) return challengeFor(undefined, settings)
    const { scheme, token } = presented
    const options = scheme === 'Bearer' ? verifyOptions : dpopOptions(credentials, verifyOptions)
    const clientCertificate = credentials.clientCertificate
    return {
      scheme,
      token,
      verifyOptions: clientCertificate === undefined ? options : { ...options, clientCertificate },
    }
  } catch (error) {
    if (isBearerError(error)) return challengeFor(error, settings, presented?.scheme)
    throw error
  }
}

/**
 * The Challenge for an error `verify()` rejected with. Any error that is not a `BearerError` is a
 * bug (the `Verifier` contract allows only `BearerError`s) and is rethrown for the framework's own
 * error handling rather than dressed up as a 401 or 503.
 */
export function challengeForRejection(
  settings: BearerAuthSettings,
  error: unknown,
  scheme?: PresentedToken['scheme'],
): Challenge {
  if (isBearerError(error)) return challengeFor(error as BearerError, settings, scheme)
  throw error
}

/**
 * Reads the token (and DPoP proof) and verifies it. Resolves to the Principal, or to the
 * Challenge to send; rejects only with an unexpected (non-`BearerError`) failure.
 */
export async function authenticate(
  settings: BearerAuthSettings,
  credentials: BearerCredentials,
  verifyOptions: VerifyOptions | undefined,
): Promise<Principal | Challenge> {
  const presented = presentedOrChallenge(settings, credentials, verifyOptions)
  if (presented instanceof Challenge) return presented
  try {
    return await settings.verifier.verify(presented.token, presented.verifyOptions)
  } catch (error) {
    return challengeForRejection(settings, error, presented.scheme)
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
