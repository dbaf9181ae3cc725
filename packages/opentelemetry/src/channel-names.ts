/**
 * The names of the diagnostics channels this package listens on, written out rather than imported:
 * importing them would load the client, the verifier and the server (and their dependencies) into
 * every process that only uses one of them. A test pins each name to the constant its package
 * exports, so a renamed channel fails the build here instead of going silent.
 *
 * @module channel-names
 */

/** The client's channels (`CLIENT_CHANNELS` of `@oauth-m2m/client`). */
export const CLIENT_CHANNEL_NAMES = {
  fetchStart: 'oauth-m2m:client:fetch:start',
  fetchRetry: 'oauth-m2m:client:fetch:retry',
  fetchEnd: 'oauth-m2m:client:fetch:end',
  fetchError: 'oauth-m2m:client:fetch:error',
  cacheHit: 'oauth-m2m:client:cache:hit',
  cacheMiss: 'oauth-m2m:client:cache:miss',
  cacheStale: 'oauth-m2m:client:cache:stale',
  storeError: 'oauth-m2m:client:store:error',
  backoff: 'oauth-m2m:client:backoff',
} as const

/**
 * The verifier's channels (`INTROSPECTION_CHANNEL`, `REJECTION_CHANNEL`, `VERIFICATION_CHANNEL` of
 * `@oauth-m2m/verifier`).
 */
export const VERIFIER_CHANNEL_NAMES = {
  introspection: 'oauth-m2m:verifier:introspection',
  rejection: 'oauth-m2m:verifier:rejection',
  verification: 'oauth-m2m:verifier:verification',
} as const

/** The server's channel (`SERVER_REQUEST_CHANNEL` of `@oauth-m2m/server`). */
export const SERVER_CHANNEL_NAMES = {
  request: 'oauth-m2m:server:request',
} as const

/** Core's JWKS cache channels (`JWKS_FETCH_CHANNEL`, `JWKS_ERROR_CHANNEL` of `@oauth-m2m/core`). */
export const JWKS_CHANNEL_NAMES = {
  fetch: 'oauth-m2m:core:jwks:fetch',
  error: 'oauth-m2m:core:jwks:error',
} as const
