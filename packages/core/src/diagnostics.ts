/**
 * Names and payloads of the `node:diagnostics_channel` channels published by core, and the one
 * payload style of every package: channels are named `oauth-m2m:<package>:<event>`, payloads are
 * plain data, and an error is described by an {@link ErrorSummary} (its name, code and message),
 * never passed as a live object that might carry a secret in a property or a cause. Subscribe with
 * `diagnostics_channel.subscribe(JWKS_FETCH_CHANNEL, listener)`; nothing is published, and nothing
 * costs, while no one listens. Payloads never hold a key, a secret or a token.
 *
 * @module diagnostics
 */
import type { OAuthM2MErrorCode } from './errors.js'

/** An error in a diagnostics payload, as plain data. */
export interface ErrorSummary {
  /** The error's class name, e.g. `TimeoutError`. */
  name: string
  /** The error's stable `code` (an {@link OAuthM2MErrorCode} for oauth-m2m errors), when it has one. */
  code: string | undefined
  /** The error's message, which for oauth-m2m errors never holds a credential. */
  message: string
}

/** Describes `error` for a diagnostics payload: name, code and message, nothing else. */
export function summarizeError(error: unknown): ErrorSummary {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code
    return { name: error.name, code: typeof code === 'string' ? code : undefined, message: error.message }
  }
  return { name: 'Error', code: undefined, message: String(error) }
}

/** Published after every successful JWKS fetch, with a {@link JwksFetchEvent}. */
export const JWKS_FETCH_CHANNEL = 'oauth-m2m:core:jwks:fetch'

/** Published after every failed JWKS fetch, with a {@link JwksErrorEvent}. */
export const JWKS_ERROR_CHANNEL = 'oauth-m2m:core:jwks:error'

/** Why the JWKS cache fetched the key set. */
export type JwksFetchReason = 'initial' | 'expired' | 'unknown-kid' | 'manual'

/** Payload of {@link JWKS_FETCH_CHANNEL}. */
export interface JwksFetchEvent {
  /** The JWKS URI that was fetched. */
  jwksUri: string
  /** Number of usable public signing keys in the new set. */
  keyCount: number
  /** What triggered the fetch. */
  reason: JwksFetchReason
  /** Time from sending the request to the key set being parsed, in milliseconds (monotonic clock). */
  durationMs: number
}

/** Payload of {@link JWKS_ERROR_CHANNEL}. */
export interface JwksErrorEvent {
  /** The JWKS URI that failed. */
  jwksUri: string
  /** What went wrong, as plain data. */
  error: ErrorSummary
  /** Time from sending the request to the failure (a timeout included), in milliseconds (monotonic clock). */
  durationMs: number
}
