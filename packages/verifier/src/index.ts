/**
 * `@oauth-m2m/verifier`: checks OAuth 2.0 access tokens on a resource server — RFC 9068 JWTs
 * against the issuer's JWKS, opaque tokens by RFC 7662 introspection — and answers per RFC 6750.
 *
 * @packageDocumentation
 */
export {
  BearerError,
  type BearerErrorCode,
  InsufficientScopeError,
  InvalidRequestError,
  InvalidTokenError,
  TemporarilyUnavailableError,
} from '@oauth-m2m/core'
export type { Principal, Verifier, VerifyOptions } from './types.js'
export { toWWWAuthenticate, type WWWAuthenticateOptions } from './www-authenticate.js'
