/**
 * `@oauth-m2m/core`: what the client, the verifier and the server share.
 *
 * @packageDocumentation
 */
export * from './abortable.js'
export * from './basic-credentials.js'
export * from './client-auth/apply-client-auth.js'
export * from './client-auth/assertion.js'
export * from './client-auth/client-secret-basic.js'
export * from './client-auth/client-secret-jwt.js'
export * from './client-auth/client-secret-post.js'
export * from './client-auth/private-key-jwt.js'
export { resolveSecret } from './client-auth/secret-source.js'
export * from './client-auth/types.js'
export * from './diagnostics.js'
export * from './discovery.js'
export * from './errors.js'
export * from './form-encoding.js'
export * from './json-request.js'
export * from './jwk-match.js'
export * from './jwks-cache.js'
export * from './jwks-document.js'
export * from './redaction.js'
export * from './retry-after.js'
