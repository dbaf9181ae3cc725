/**
 * `node:diagnostics_channel` channels the client publishes on, named `oauth-m2m:client:<event>`.
 * Payloads are plain data that name the cache key, never a secret, an assertion or a token; an
 * error is described by an {@link ErrorSummary} (its name, code and message), never passed as the
 * live object, which might carry a secret in a property or a cause.
 *
 * Subscribe with `diagnostics_channel.subscribe(CLIENT_CHANNELS.fetchEnd, (msg) => …)`.
 *
 * @module diagnostics
 */
import diagnostics_channel from 'node:diagnostics_channel'
import type { ErrorSummary } from '@oauth-m2m/core'

/** Names of every channel, by event. */
export const CLIENT_CHANNELS = {
  /** A token request starts: {@link FetchStartMessage}. */
  fetchStart: 'oauth-m2m:client:fetch:start',
  /** A token request is retried after a failed attempt: {@link FetchRetryMessage}. */
  fetchRetry: 'oauth-m2m:client:fetch:retry',
  /** A token request succeeded: {@link FetchEndMessage}. */
  fetchEnd: 'oauth-m2m:client:fetch:end',
  /** A token request failed for good: {@link FetchErrorMessage}. */
  fetchError: 'oauth-m2m:client:fetch:error',
  /** A fresh token was served from memory: {@link CacheMessage}. */
  cacheHit: 'oauth-m2m:client:cache:hit',
  /** No usable token was cached; the caller waits for one: {@link CacheMessage}. */
  cacheMiss: 'oauth-m2m:client:cache:miss',
  /** A stale (still valid) token was served while it is refreshed in the background: {@link CacheMessage}. */
  cacheStale: 'oauth-m2m:client:cache:stale',
  /** A token was cached and its refresh time set: {@link RefreshScheduledMessage}. */
  refreshScheduled: 'oauth-m2m:client:refresh:scheduled',
  /** A background refresh failed; the cached token is still served: {@link RefreshFailedMessage}. */
  refreshFailed: 'oauth-m2m:client:refresh:failed',
  /** The shared store failed or timed out and was bypassed: {@link StoreErrorMessage}. */
  storeError: 'oauth-m2m:client:store:error',
  /** The server asked (Retry-After) not to be called for a while: {@link BackoffMessage}. */
  backoff: 'oauth-m2m:client:backoff',
} as const

/** Fields every message has. */
export interface KeyMessage {
  /** The cache key (token endpoint or issuer, client id, scopes, resources, audiences, extra parameters). */
  key: string
}

/** Payload of `oauth-m2m:client:cache:hit`, `…:cache:miss` and `…:cache:stale`. */
export interface CacheMessage extends KeyMessage {
  /** Expiry of the cached token, epoch ms; absent on a miss. */
  expiresAt?: number
}

/** Payload of `oauth-m2m:client:fetch:start`. */
export interface FetchStartMessage extends KeyMessage {
  /** The client's `client_id`. */
  clientId: string
  /** The token endpoint, or the issuer when it is still to be discovered. */
  server: string
  /** Scopes requested, sorted. */
  scopes: readonly string[]
  /** Resource indicators requested, sorted. */
  resources: readonly string[]
  /** Audiences requested (`audience` parameters), sorted. */
  audiences: readonly string[]
  /** `true` when no caller waits for it (a refresh of a stale token). */
  background: boolean
}

/** Payload of `oauth-m2m:client:fetch:retry`. */
export interface FetchRetryMessage extends KeyMessage {
  /** The attempt that failed, from 1. */
  attempt: number
  /** Wait before the next attempt, in ms. */
  delayMs: number
  /** Why the attempt failed. */
  error: ErrorSummary
}

/** Payload of `oauth-m2m:client:fetch:end`. */
export interface FetchEndMessage extends KeyMessage {
  /** Attempts made, from 1. */
  attempts: number
  /** Time from start to answer, in ms. */
  durationMs: number
  /** Expiry of the new token, epoch ms. */
  expiresAt: number
  /** Granted scope. */
  scope: string | undefined
}

/** Payload of `oauth-m2m:client:fetch:error`. */
export interface FetchErrorMessage extends KeyMessage {
  /** Attempts made, from 1 (discovery included). */
  attempts: number
  /** Time from start to failure, in ms. */
  durationMs: number
  /** The error the caller got. */
  error: ErrorSummary
  /**
   * The RFC 6749 §5.2 `error` code the token endpoint answered (`invalid_client`, `invalid_scope`…),
   * when the failure is such an answer (`OAuthResponseError`); already scrubbed of the credentials
   * this client sent. Never the server's `error_description`.
   */
  oauthError?: string
  /** The HTTP status of the answer that failed the request, when one arrived. */
  status?: number
}

/** Payload of `oauth-m2m:client:refresh:scheduled`. */
export interface RefreshScheduledMessage extends KeyMessage {
  /** When the token becomes stale and is refreshed on next use, epoch ms. */
  refreshAt: number
  /** When the token stops being served and callers wait for a new one (expiry minus `expiryMarginSec`), epoch ms. */
  expiredAt: number
}

/** Payload of `oauth-m2m:client:refresh:failed`. */
export interface RefreshFailedMessage extends KeyMessage {
  /** Why the refresh failed. */
  error: ErrorSummary
  /** Earliest next background attempt, epoch ms. */
  retryAt: number
}

/** Payload of `oauth-m2m:client:store:error`. */
export interface StoreErrorMessage extends KeyMessage {
  /** The `TokenStore` method that failed (`lock`, `release` and `waitForToken` with a store that can lock). */
  operation: 'get' | 'set' | 'delete' | 'lock' | 'release' | 'waitForToken'
  /** What the store threw (or `StoreTimeoutError`, or a `TypeError` for a value that is not a TokenSet). */
  error: ErrorSummary
}

/** Payload of `oauth-m2m:client:backoff`. */
export interface BackoffMessage extends KeyMessage {
  /** Until when calls for the key are held back, epoch ms. */
  until: number
  /** The HTTP status that asked for it (429 or 503). */
  status: number
}

/** The channel objects, created once. */
export const channels = {
  fetchStart: diagnostics_channel.channel(CLIENT_CHANNELS.fetchStart),
  fetchRetry: diagnostics_channel.channel(CLIENT_CHANNELS.fetchRetry),
  fetchEnd: diagnostics_channel.channel(CLIENT_CHANNELS.fetchEnd),
  fetchError: diagnostics_channel.channel(CLIENT_CHANNELS.fetchError),
  cacheHit: diagnostics_channel.channel(CLIENT_CHANNELS.cacheHit),
  cacheMiss: diagnostics_channel.channel(CLIENT_CHANNELS.cacheMiss),
  cacheStale: diagnostics_channel.channel(CLIENT_CHANNELS.cacheStale),
  refreshScheduled: diagnostics_channel.channel(CLIENT_CHANNELS.refreshScheduled),
  refreshFailed: diagnostics_channel.channel(CLIENT_CHANNELS.refreshFailed),
  storeError: diagnostics_channel.channel(CLIENT_CHANNELS.storeError),
  backoff: diagnostics_channel.channel(CLIENT_CHANNELS.backoff),
}
