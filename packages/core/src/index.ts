/**
 * `@oauth-m2m/core`: what the client, the verifier and the server share, and what their users
 * see of it: the errors, the client authentication strategies, RFC 8414 discovery, the JWKS cache
 * and its diagnostics channels. The building blocks the packages share among themselves are on
 * `@oauth-m2m/core/internal`, which is not a public API.
 *
 * @packageDocumentation
 * @module @oauth-m2m/core
 */
export {
  DEFAULT_ASSERTION_LIFETIME_SEC,
  JWT_BEARER_ASSERTION_TYPE,
} from './client-auth/assertion.js'
export {
  type ClientAssertionOptions,
  type ClientAssertionSource,
  clientAssertion,
} from './client-auth/client-assertion.js'
export { clientSecretBasic } from './client-auth/client-secret-basic.js'
export { type ClientSecretJwtOptions, clientSecretJwt } from './client-auth/client-secret-jwt.js'
export { clientSecretPost } from './client-auth/client-secret-post.js'
export {
  type PrivateKeyInput,
  type PrivateKeyJwtAlg,
  type PrivateKeyJwtOptions,
  privateKeyJwt,
} from './client-auth/private-key-jwt.js'
export {
  type SelfSignedTlsClientAuthOptions,
  selfSignedTlsClientAuth,
  type TlsClientAuthOptions,
  type TlsClientAuthStrategy,
  tlsClientAuth,
} from './client-auth/tls-client-auth.js'
export type { CertificateInput, PrivateKeyMaterial } from './client-auth/tls-client-certificate.js'
export type {
  AppliedClientAuth,
  AssertionOptions,
  ClientAuthContext,
  ClientAuthMethod,
  ClientAuthRequest,
  ClientAuthStrategy,
  SecretSource,
  TlsClientCertificate,
  TlsConnectOptions,
} from './client-auth/types.js'
export {
  type ErrorSummary,
  JWKS_ERROR_CHANNEL,
  JWKS_FETCH_CHANNEL,
  type JwksErrorEvent,
  type JwksFetchEvent,
  type JwksFetchReason,
} from './diagnostics.js'
export {
  type AuthorizationServerMetadata,
  clearDiscoveryCache,
  DEFAULT_DISCOVERY_CACHE_TTL_MS,
  DEFAULT_DISCOVERY_TIMEOUT_MS,
  type DiscoveryOptions,
  discover,
} from './discovery.js'
export {
  InvalidDpopProofError,
  type InvalidDpopProofErrorOptions,
  UseDpopNonceError,
  type UseDpopNonceErrorOptions,
} from './dpop/dpop-errors.js'
export {
  BearerError,
  type BearerErrorCode,
  ConfigurationError,
  DiscoveryError,
  HttpError,
  type HttpErrorInit,
  InsufficientScopeError,
  InvalidRequestError,
  InvalidTokenError,
  JwksError,
  JwksNoMatchingKeyError,
  JwksUnavailableError,
  NetworkError,
  OAuthM2MError,
  type OAuthM2MErrorCode,
  type OAuthM2MErrorOptions,
  OAuthResponseError,
  type OAuthResponseErrorInit,
  StoreUnavailableError,
  TemporarilyUnavailableError,
  TimeoutError,
} from './errors.js'
export type { JwsKeyHint } from './jwk-match.js'
export {
  DEFAULT_JWKS_COOLDOWN_MS,
  DEFAULT_JWKS_MAX_AGE_MS,
  DEFAULT_JWKS_MAX_STALE_MS,
  DEFAULT_JWKS_TIMEOUT_MS,
  JwksCache,
  type JwksCacheOptions,
} from './jwks-cache.js'
