/**
 * Names and payloads of the `node:diagnostics_channel` channels published by core. Subscribe with
 * `diagnostics_channel.subscribe(JWKS_FETCH_CHANNEL, listener)`; nothing is published, and nothing
 * costs, while no one listens. Payloads never hold a key, a secret or a token.
 *
 * @module diagnostics
 */

/** Published after every successful JWKS fetch, with a {@link JwksFetchEvent}. */
export const JWKS_FETCH_CHANNEL = 'oauth-m2m:jwks:fetch'

/** Published after every failed JWKS fetch, with a {@link JwksErrorEvent}. */
export const JWKS_ERROR_CHANNEL = 'oauth-m2m:jwks:error'

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
}

/** Payload of {@link JWKS_ERROR_CHANNEL}. */
export interface JwksErrorEvent {
  /** The JWKS URI that failed. */
  jwksUri: string
  /** What went wrong, as plain data. */
  error: { name: string; code: string | undefined; message: string }
}
