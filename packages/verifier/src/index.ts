/**
 * `@oauth-m2m/verifier`: checks OAuth 2.0 access tokens on a resource server — RFC 9068 JWTs
 * against the issuer's JWKS, opaque tokens by RFC 7662 introspection — and answers per RFC 6750.
 *
 * @packageDocumentation
 * @module @oauth-m2m/verifier
 */
export {
  BearerError,
  type BearerErrorCode,
  InsufficientScopeError,
  InvalidDpopProofError,
  InvalidRequestError,
  InvalidTokenError,
  TemporarilyUnavailableError,
  UseDpopNonceError,
} from '@oauth-m2m/core'
export {
  DEFAULT_DPOP_IAT_WINDOW_SEC,
  DEFAULT_DPOP_NONCE_WINDOW_SEC,
  DPOP_SIGNING_ALGS,
  type DpopSigningAlg,
} from '@oauth-m2m/core/internal'
export { type JwsAlgorithm, SUPPORTED_ALGORITHMS } from './algorithms.js'
export { type ApplicationCheck, CHECK_REFUSED_DESCRIPTION } from './application-check.js'
export { createVerifier } from './create-verifier.js'
export {
  INTROSPECTION_CHANNEL,
  type IntrospectionEvent,
  REJECTION_CHANNEL,
  type RejectionEvent,
  VERIFICATION_CHANNEL,
  type VerificationEvent,
} from './diagnostics.js'
export type { DpopMode, DpopNonceOptions, DpopOptions } from './dpop-options.js'
export {
  DEFAULT_DPOP_REPLAY_MAX_ENTRIES,
  type DpopReplayStore,
  MemoryDpopReplayStore,
  type MemoryDpopReplayStoreOptions,
} from './dpop-replay-store.js'
export type { IntrospectionCache, IntrospectionCacheEntry } from './introspection-cache.js'
export {
  DEFAULT_INTROSPECTION_FAILURE_COOLDOWN_MS,
  DEFAULT_INTROSPECTION_INACTIVE_TTL_MS,
  DEFAULT_INTROSPECTION_MAX_ENTRIES,
  DEFAULT_INTROSPECTION_MAX_TTL_MS,
  type IntrospectionOptions,
} from './introspection-options.js'
export type { TypPolicy } from './jwt-header.js'
export { type Auth0PresetOptions, auth0 } from './presets/auth0.js'
export { type CognitoPresetOptions, cognito } from './presets/cognito.js'
export { type EntraIdPresetOptions, entraId } from './presets/entra-id.js'
export { type KeycloakPresetOptions, keycloak } from './presets/keycloak.js'
export { type OktaPresetOptions, okta } from './presets/okta.js'
export { DEFAULT_MAX_TOKEN_LENGTH } from './token-syntax.js'
export type {
  Confirmation,
  DpopPolicy,
  DpopRequest,
  Principal,
  Verifier,
  VerifyOptions,
} from './types.js'
export {
  DEFAULT_TOKEN_CACHE_MAX_ENTRIES,
  DEFAULT_TOKEN_CACHE_MAX_TTL_MS,
  type TokenCacheOptions,
} from './verified-token-cache.js'
export { VerifierClosedError } from './verifier-closed-error.js'
export {
  type ClaimNames,
  DEFAULT_CLIENT_ID_CLAIMS,
  DEFAULT_CLOCK_TOLERANCE_SEC,
  DEFAULT_DISCOVERY_FAILURE_COOLDOWN_MS,
  DEFAULT_SCOPE_CLAIMS,
  DEFAULT_VERIFIER_TIMEOUT_MS,
  type VerifierOptions,
} from './verifier-options.js'
export { toWWWAuthenticate, type WWWAuthenticateOptions } from './www-authenticate.js'
