/**
 * Names and payloads of the `node:diagnostics_channel` channels the verifier publishes on.
 * Nothing is published, and nothing costs, while no one subscribes. Payloads never hold a token.
 * JWKS fetches and failures are published by core (`oauth-m2m:core:jwks:fetch`, `oauth-m2m:core:jwks:error`).
 *
 * @module diagnostics
 */
import { channel } from 'node:diagnostics_channel'
import type { ErrorSummary, OAuthM2MErrorCode } from '@oauth-m2m/core'

/** Published after every introspection call, with an {@link IntrospectionEvent}. */
export const INTROSPECTION_CHANNEL = 'oauth-m2m:verifier:introspection'

/** Published for every refused token, with a {@link RejectionEvent}. */
export const REJECTION_CHANNEL = 'oauth-m2m:verifier:rejection'

/**
 * Published once per `verify()` call that got past its options check, whatever the outcome, with a
 * {@link VerificationEvent}. A refused token is also published on {@link REJECTION_CHANNEL}.
 */
export const VERIFICATION_CHANNEL = 'oauth-m2m:verifier:verification'

/** Payload of {@link VERIFICATION_CHANNEL}. */
export interface VerificationEvent {
  /** `success` when `verify()` resolved with a principal, `failure` when it rejected. */
  outcome: 'success' | 'failure'
  /** How a verified token was checked: `jwt` (signature and claims) or `introspection`; on success only. */
  source?: 'jwt' | 'introspection'
  /** `true` when the token was found in the verified-token cache (no signature check, no call). */
  cached: boolean
  /** Time `verify()` took, from the call to its outcome, in milliseconds (monotonic clock). */
  durationMs: number
  /** On failure: the error's stable code, e.g. `ERR_INVALID_TOKEN`, `ERR_INSUFFICIENT_SCOPE`. */
  code?: OAuthM2MErrorCode
  /** On failure: the RFC 6750 error, e.g. `invalid_token`. */
  error?: string
}

/** Payload of {@link INTROSPECTION_CHANNEL}. */
export interface IntrospectionEvent {
  /** The introspection endpoint called. */
  endpoint: string
  /** `active` / `inactive` per the answer, or `error` when there was no usable answer. */
  outcome: 'active' | 'inactive' | 'error'
  /** HTTP status of the answer, when one arrived. */
  status: number | undefined
  /** Duration of the call, in milliseconds. */
  durationMs: number
  /** What went wrong, when `outcome` is `error`, as plain data. */
  error?: ErrorSummary
}

/** Payload of {@link REJECTION_CHANNEL}. */
export interface RejectionEvent {
  /** The error's stable code, e.g. `ERR_INVALID_TOKEN`. */
  code: OAuthM2MErrorCode
  /** The RFC 6750 error, e.g. `invalid_token`. */
  error: string
  /** The error's message (which never contains the token). */
  message: string
}

/** @internal */
export const introspectionChannel = channel(INTROSPECTION_CHANNEL)
/** @internal */
export const rejectionChannel = channel(REJECTION_CHANNEL)
/** @internal */
export const verificationChannel = channel(VERIFICATION_CHANNEL)
