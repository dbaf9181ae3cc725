/**
 * Where the endpoints live for an issuer, and the RFC 8414 metadata document that says so.
 *
 * @module metadata
 */
import { ASSERTION_ALGS } from './client-assertion.js'
import { TOKEN_ENDPOINT_AUTH_METHODS, type TokenEndpointAuthMethod } from './client-metadata.js'
import type { MtlsEndpointAliases, MtlsSettings } from './mtls-settings.js'

/** Absolute URLs and request paths of the server's endpoints. */
export interface EndpointLocations {
  issuer: string
  tokenEndpoint: string
  jwksUri: string
  introspectionEndpoint: string
  revocationEndpoint: string
  /** The registration endpoint (RFC 7591), when registration is on. */
  registrationEndpoint?: string | undefined
  /**
   * Request paths (no query) the router matches; `metadata` lists every path that serves the
   * metadata document, the RFC 8414 one first; `register` is there when registration is on.
   */
  paths: {
    token: string
    jwks: string
    introspect: string
    revoke: string
    metadata: readonly string[]
    register?: string | undefined
  }
}

/** Endpoint URLs configured in place of the defaults under the issuer (validated absolute URLs). */
export interface ConfiguredEndpoints {
  token?: string | undefined
  jwks?: string | undefined
  introspection?: string | undefined
  revocation?: string | undefined
  metadata?: readonly string[] | undefined
}

/**
 * The endpoint URLs: those configured, the others under `issuer`. The RFC 8414 metadata path
 * (§3, with the issuer's path appended) always serves the metadata document; configured
 * `metadata` URLs add paths that serve it too. Routing is by path only, so a configured URL on
 * another host routes here by its path.
 *
 * @param registration Whether registration is on: the registration endpoint is `${issuer}/register`.
 */
export function endpointLocations(
  issuer: string,
  configured: ConfiguredEndpoints = {},
  registration = false,
): EndpointLocations {
  const base = issuer.replace(/\/+$/, '')
  const basePath = new URL(`${base}/`).pathname.replace(/\/$/, '')
  const tokenEndpoint = configured.token ?? `${base}/token`
  const jwksUri = configured.jwks ?? `${base}/jwks`
  const introspectionEndpoint = configured.introspection ?? `${base}/introspect`
  const revocationEndpoint = configured.revocation ?? `${base}/revoke`
  const registrationEndpoint = registration ? `${base}/register` : undefined
  const metadataPaths = [`/.well-known/oauth-authorization-server${basePath}`]
  for (const url of configured.metadata ?? []) {
    const path = new URL(url).pathname
    if (!metadataPaths.includes(path)) metadataPaths.push(path)
  }
  return {
    issuer,
    tokenEndpoint,
    jwksUri,
    introspectionEndpoint,
    revocationEndpoint,
    registrationEndpoint,
    paths: {
      token: new URL(tokenEndpoint).pathname,
      jwks: new URL(jwksUri).pathname,
      introspect: new URL(introspectionEndpoint).pathname,
      revoke: new URL(revocationEndpoint).pathname,
      metadata: metadataPaths,
      register: registrationEndpoint === undefined ? undefined : new URL(registrationEndpoint).pathname,
    },
  }
}

/**
 * The first request path that two endpoints of `locations` share (the router could send it to
 * only one of them), as `[path, first endpoint, second endpoint]`; `undefined` when all differ.
 */
export function sharedEndpointPath(locations: EndpointLocations): [string, string, string] | undefined {
  const { paths } = locations
  const named: [string, string][] = [
    ['token', paths.token],
    ['jwks', paths.jwks],
    ['introspection', paths.introspect],
    ['revocation', paths.revoke],
    ...paths.metadata.map((path): [string, string] => ['metadata', path]),
    ...(paths.register === undefined ? [] : [['registration', paths.register] as [string, string]]),
  ]
  const seen = new Map<string, string>()
  for (const [name, path] of named) {
    const other = seen.get(path)
    if (other !== undefined) return [path, other, name]
    seen.set(path, name)
  }
  return undefined
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
  /** RFC 7591 dynamic client registration; present when registration is on. */
  registration_endpoint?: string
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
  /** JWS algorithms accepted on DPoP proofs (RFC 9449 §5.1); absent when DPoP is disabled. */
  dpop_signing_alg_values_supported?: string[]
  /**
   * `true` when mTLS is configured (the `mtls` option): the server binds access tokens to client
   * certificates (RFC 8705 §3.3).
   */
  tls_client_certificate_bound_access_tokens?: boolean
  /** Where clients reach the endpoints over mutual TLS (RFC 8705 §5), when configured. */
  mtls_endpoint_aliases?: MtlsEndpointAliases
}

const MTLS_METHODS: ReadonlySet<TokenEndpointAuthMethod> = new Set([
  'tls_client_auth',
  'self_signed_tls_client_auth',
])
/**
 * Public clients (`none`) may get no token and may not introspect or revoke: not advertised. The
 * mutual-TLS methods are advertised when mTLS is configured, `tls_client_auth` when a CA is.
 */
const AUTH_METHODS = TOKEN_ENDPOINT_AUTH_METHODS.filter(
  (method) => method !== 'none' && !MTLS_METHODS.has(method),
)

function authMethods(mtls: MtlsSettings | undefined): string[] {
  if (mtls === undefined) return [...AUTH_METHODS]
  const methods: string[] = [...AUTH_METHODS]
  if (mtls.trust !== undefined) methods.push('tls_client_auth')
  methods.push('self_signed_tls_client_auth')
  return methods
}
const AUTH_ALGS = [...ASSERTION_ALGS.client_secret_jwt, ...ASSERTION_ALGS.private_key_jwt]

/**
 * Builds the metadata document; arrays that would be empty are left out (RFC 8414 §2).
 *
 * @param dpopAlgorithms Algorithms accepted on DPoP proofs; empty when DPoP is disabled.
 * @param mtls The `mtls` option; `undefined` when mTLS is off.
 */
export function buildMetadata(
  locations: EndpointLocations,
  scopes: readonly string[],
  dpopAlgorithms: readonly string[] = [],
  mtls?: MtlsSettings,
): ServerMetadata {
  const methods = authMethods(mtls)
  const metadata: ServerMetadata = {
    issuer: locations.issuer,
    token_endpoint: locations.tokenEndpoint,
    jwks_uri: locations.jwksUri,
    introspection_endpoint: locations.introspectionEndpoint,
    revocation_endpoint: locations.revocationEndpoint,
    ...(locations.registrationEndpoint === undefined
      ? {}
      : { registration_endpoint: locations.registrationEndpoint }),
    grant_types_supported: ['client_credentials'],
    token_endpoint_auth_methods_supported: [...methods],
    token_endpoint_auth_signing_alg_values_supported: [...AUTH_ALGS],
    introspection_endpoint_auth_methods_supported: [...methods],
    introspection_endpoint_auth_signing_alg_values_supported: [...AUTH_ALGS],
    revocation_endpoint_auth_methods_supported: [...methods],
    revocation_endpoint_auth_signing_alg_values_supported: [...AUTH_ALGS],
  }
  if (scopes.length > 0) metadata.scopes_supported = [...scopes]
  if (dpopAlgorithms.length > 0) metadata.dpop_signing_alg_values_supported = [...dpopAlgorithms]
  if (mtls !== undefined) {
    metadata.tls_client_certificate_bound_access_tokens = true
    if (Object.keys(mtls.endpointAliases).length > 0)
      metadata.mtls_endpoint_aliases = { ...mtls.endpointAliases }
  }
  return metadata
}
