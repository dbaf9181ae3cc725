/**
 * The one client, scope and resource every token-endpoint fixture of the server bench registers,
 * so that oauth-m2m and oidc-provider answer the same request with the same kind of token.
 */

/** Client id registered with `client_secret_basic`. */
export const CLIENT_ID = 'bench-client'
/** Its secret. A bench-only credential for loopback servers that live for one run. */
export const CLIENT_SECRET = 'bench-secret-7a1f3c9e5b2d4f60'
/** Scopes the client may request; the bench asks for `read`. */
export const CLIENT_SCOPE = 'read write'
/** The scope the bench requests. */
export const REQUESTED_SCOPE = 'read'
/** The RFC 8707 resource the bench requests; the token's `aud`. */
export const RESOURCE = 'https://api.bench.example'
/** Access token lifetime, in seconds, on both servers. */
export const TOKEN_LIFETIME_SEC = 300
