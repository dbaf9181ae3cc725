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

/** Client id registered with `tls_client_auth` (RFC 8705) on the TLS fixtures. */
export const MTLS_CLIENT_ID = 'bench-mtls-client'
/** Subject DN (RFC 4514) of its certificate, as registered. */
export const MTLS_SUBJECT_DN = 'CN=bench-mtls-client,O=oauth-m2m bench'
/**
 * The same DN as @peculiar/x509 takes it to issue the certificate: it writes the string in DER
 * order, the reverse of RFC 4514's.
 */
export const MTLS_SUBJECT_DER_ORDER = 'O=oauth-m2m bench, CN=bench-mtls-client'
/** Environment variable that hands the TLS fixtures their key, certificate and client CA (JSON). */
export const TLS_FIXTURE_ENV = 'BENCH_TLS_FIXTURE'
