/**
 * `@oauth-m2m/client`: OAuth 2.0 client_credentials tokens for service-to-service calls, with a
 * cache that refreshes early, one request per key at a time, retries, DPoP (RFC 9449) and
 * mutual-TLS (RFC 8705) sender-constrained tokens, and a `fetch` and undici interceptor that attach
 * the token for the right origins only.
 *
 * The client authentication strategies and the error classes of `@oauth-m2m/core` are
 * re-exported, so that most users need only this package.
 *
 * @packageDocumentation
 */
export {
  type CertificateInput,
  type ClientAssertionOptions,
  type ClientAssertionSource,
  type ClientAuthStrategy,
  ConfigurationError,
  clientAssertion,
  clientSecretBasic,
  clientSecretJwt,
  clientSecretPost,
  DiscoveryError,
  type ErrorSummary,
  HttpError,
  NetworkError,
  OAuthM2MError,
  type OAuthM2MErrorCode,
  OAuthResponseError,
  type PrivateKeyInput,
  type PrivateKeyJwtOptions,
  type PrivateKeyMaterial,
  privateKeyJwt,
  type SelfSignedTlsClientAuthOptions,
  selfSignedTlsClientAuth,
  TimeoutError,
  type TlsClientAuthOptions,
  type TlsClientAuthStrategy,
  type TlsClientCertificate,
  type TlsConnectOptions,
  tlsClientAuth,
} from '@oauth-m2m/core'
export {
  type BackoffMessage,
  type CacheMessage,
  CLIENT_CHANNELS,
  type FetchEndMessage,
  type FetchErrorMessage,
  type FetchRetryMessage,
  type FetchStartMessage,
  type KeyMessage,
  type RefreshFailedMessage,
  type RefreshScheduledMessage,
  type StoreErrorMessage,
} from './diagnostics.js'
export { DPOP_PROOF_ALGS, type DpopKeyPair, type DpopProofAlg } from './dpop/dpop-key.js'
export * from './errors.js'
export type { TokenClientDpopOptions, TokenClientOptions } from './options.js'
export type { RetryOptions } from './retry.js'
export { createTokenClient, type InterceptorOptions, type TokenClient } from './token-client.js'
export type { TokenParams } from './token-request-key.js'
export type { TokenSet } from './token-set.js'
export {
  MemoryTokenStore,
  type MemoryTokenStoreOptions,
  type TokenStore,
  type TokenStoreLock,
} from './token-store.js'
