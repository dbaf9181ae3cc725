/**
 * `@oauth-m2m/server`: a reference OAuth 2.0 authorization server for the client_credentials
 * grant, for end-to-end suites and local development.
 *
 * @packageDocumentation
 * @module @oauth-m2m/server
 */
export {
  type AuthorizationServer,
  createAuthorizationServer,
  type HandleOptions,
  type ListeningServer,
  type ListenOptions,
  type ListenTlsOptions,
} from './authorization-server.js'
export type { ClientMetadata, PublicClientMetadata, TokenEndpointAuthMethod } from './client-metadata.js'
export type {
  AuthorizationServerConfig,
  BeforeSignContext,
  BeforeSignHook,
  DpopConfig,
  DpopMode,
  DpopNonceConfig,
  EndpointsConfig,
  MtlsConfig,
  RateLimitConfig,
  ResourceConfig,
  SigningConfig,
  TrustedProxyConfig,
} from './config.js'
export { SERVER_REQUEST_CHANNEL, type ServerEndpoint, type ServerRequestEvent } from './diagnostics.js'
export type { ServerProfile } from './fapi2-profile.js'
export type { ServerMetadata } from './metadata.js'
export type { MtlsEndpointAliases } from './mtls-settings.js'
export type { RegistrationConfig } from './registration-config.js'
export type { RequestLogEntry, RequestLogHook } from './request-log.js'
export type { TokenFormat } from './resource.js'
export { secretDigest } from './secret-hash.js'
export {
  type FailureCount,
  MemoryServerStore,
  type MemoryServerStoreOptions,
  type OneTimeUse,
  type ServerStore,
  type StoredClient,
  type StoredSigningKey,
  type StoredSigningKeys,
  type StoredTokenClaims,
  type StoreEvent,
  type StoreFull,
} from './server-store.js'
export { SIGNING_ALGS, type SigningAlg } from './signing/signing-key.js'
