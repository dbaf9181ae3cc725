/**
 * Where the endpoints live for an issuer, and the RFC 8414 metadata document that says so.
 *
 * @module metadata
 */
import { ASSERTION_ALGS } from './client-assertion.js'
import { TOKEN_ENDPOINT_AUTH_METHODS } from './client-metadata.js'

/** Absolute URLs and request paths of the server's endpoints. */
export interface EndpointLocations {
  issuer: string
  tokenEndpoint: string
  jwksUri: string
  introspectionEndpoint: string
  revocationEndpoint: string
  /** Request paths (no query) the router matches. */
  paths: { token: string; jwks: string; introspect: string; revoke: string; metadata: string }
}

/** The endpoint URLs under `issuer`; the metadata path follows RFC 8414 §3 for issuers with a path. */
export function endpointLocations(issuer: string): EndpointLocations {
  const base = issuer.replace(/\/+$/, '')
  const basePath = new URL(`${base}/`).pathname.replace(/\/$/, '')
  return {
    issuer,
    tokenEndpoint: `${base}/token`,
    jwksUri: `${base}/jwks`,
    introspectionEndpoint: `${base}/introspect`,
    revocationEndpoint: `${base}/revoke`,
    paths: {
      token: `${basePath}/token`,
      jwks: `${basePath}/jwks`,
      introspect: `${basePath}/introspect`,
      revoke: `${basePath}/revoke`,
      metadata: `/.well-known/oauth-authorization-server${basePath}`,
    },
  }
}

/** The RFC 8414 authorization server metadata this server publishes. */
export interface ServerMetadata {
  /** The issuer identifier. */
  issuer: string
  /** `POST` here for tokens (RFC 6749 §3.2). */
  token_endpoint: string
  /** The public signing keys (RFC 7517 JWK Set). */
  jwks_uri: string
  /** RFC 7662 token introspection. */
  introspection_endpoint: string
  /** RFC 7009 token revocation. */
  revocation_endpoint: string
  /** Always `["client_credentials"]`. */
  grant_types_supported: string[]
  /** Client authentication methods the token endpoint accepts. */
  token_endpoint_auth_methods_supported: string[]
  /** JWS algorithms accepted on client assertions at the token endpoint. */
  token_endpoint_auth_signing_alg_values_supported: string[]
  /** Client authentication methods the introspection endpoint accepts. */
  introspection_endpoint_auth_methods_supported: string[]
  /** JWS algorithms accepted on client assertions at the introspection endpoint. */
  introspection_endpoint_auth_signing_alg_values_supported: string[]
  /** Client authentication methods the revocation endpoint accepts. */
  revocation_endpoint_auth_methods_supported: string[]
  /** JWS algorithms accepted on client assertions at the revocation endpoint. */
  revocation_endpoint_auth_signing_alg_values_supported: string[]
  /** Every scope of the registered clients; absent when there is none. */
  scopes_supported?: string[]
}

/** Public clients (`none`) may get no token and may not introspect or revoke: not advertised. */
const AUTH_METHODS = TOKEN_ENDPOINT_AUTH_METHODS.filter((method) => method !== 'none')
const AUTH_ALGS = [...ASSERTION_ALGS.client_secret_jwt, ...ASSERTION_ALGS.private_key_jwt]

/** Builds the metadata document; arrays that would be empty are left out (RFC 8414 §2). */
export function buildMetadata(locations: EndpointLocations, scopes: readonly string[]): ServerMetadata {
  const metadata: ServerMetadata = {
    issuer: locations.issuer,
    token_endpoint: locations.tokenEndpoint,
    jwks_uri: locations.jwksUri,
    introspection_endpoint: locations.introspectionEndpoint,
    revocation_endpoint: locations.revocationEndpoint,
    grant_types_supported: ['client_credentials'],
    token_endpoint_auth_methods_supported: [...AUTH_METHODS],
    token_endpoint_auth_signing_alg_values_supported: [...AUTH_ALGS],
    introspection_endpoint_auth_methods_supported: [...AUTH_METHODS],
    introspection_endpoint_auth_signing_alg_values_supported: [...AUTH_ALGS],
    revocation_endpoint_auth_methods_supported: [...AUTH_METHODS],
    revocation_endpoint_auth_signing_alg_values_supported: [...AUTH_ALGS],
  }
  if (scopes.length > 0) metadata.scopes_supported = [...scopes]
  return metadata
}
