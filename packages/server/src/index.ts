/**
 * `@oauth-m2m/server`: a reference OAuth 2.0 authorization server for the client_credentials
 * grant, for end-to-end suites and local development.
 *
 * @packageDocumentation
 */
export {
  type AuthorizationServer,
  createAuthorizationServer,
  type HandleOptions,
  type ListeningServer,
  type ListenOptions,
} from './authorization-server.js'
export type {
  AuthorizationServerConfig,
  ClientMetadata,
  PublicClientMetadata,
  RateLimitConfig,
  ResourceConfig,
  TokenEndpointAuthMethod,
  TokenFormat,
} from './config.js'
export type { ServerMetadata } from './metadata.js'
export { secretDigest } from './secret-hash.js'
export {
  MemoryServerStore,
  type MemoryServerStoreOptions,
  type ServerStore,
  type StoredTokenClaims,
} from './server-store.js'
export type { SigningAlg } from './signing/signing-keys.js'
