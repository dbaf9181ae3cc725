/**
 * OAuth 2.0 Protected Resource Metadata (RFC 9728) for the middleware: the option, its checks, the
 * JSON document (§2), the URLs it is served at (§3, §3.1) and the answer to a request for it
 * (§3.2). The `resource_metadata` challenge parameter (§5.1) is added by `challenge.ts`.
 *
 * @module middleware/resource-metadata
 */
import { ConfigurationError } from '@oauth-m2m/core'
import { isScopeToken, isSecureTransport } from '@oauth-m2m/core/internal'
import type { DpopPolicy } from '../types.js'

/**
 * The `resourceMetadata` middleware option: what this protected resource tells clients about
 * itself (RFC 9728 §2). Members are the RFC's, in camelCase; the document uses the RFC's
 * snake_case names and leaves out members that are not given (§3.2: "parameters with zero values
 * MUST be omitted").
 *
 * `bearer_methods_supported` is always `["header"]`: the middleware accepts a token only in the
 * `Authorization` header (RFC 6750 §2.1) and refuses one in a form body or the query string, so no
 * other value could be true. The DPoP members follow the verifier (`verifier.dpop`):
 * `dpop_signing_alg_values_supported` when it accepts DPoP, `dpop_bound_access_tokens_required:
 * true` when it requires it. `tls_client_certificate_bound_access_tokens` is not offered: the
 * verifier does not check certificate-bound tokens.
 */
export interface ResourceMetadataOptions {
  /**
   * The resource identifier (§2 `resource`): the URL clients call this API at, an absolute `https`
   * URL (or `http` to a loopback host, for local development) without a fragment, query or
   * credentials. The document repeats it exactly as given, because clients compare it character
   * for character with the URL they used (§3.3). Its path decides where the document is served
   * (§3.1): `https://api.example.com/things` → `/.well-known/oauth-protected-resource/things`.
   */
  resource: string
  /**
   * Issuer identifiers of the authorization servers whose tokens this resource accepts
   * (§2 `authorization_servers`): at least one absolute `https` URL (or loopback `http`).
   */
  authorizationServers: readonly string[]
  /** Scope values clients may request for this resource (§2 `scopes_supported`, RECOMMENDED). */
  scopesSupported?: readonly string[]
  /** Human-readable name of the resource (§2 `resource_name`, RECOMMENDED). */
  resourceName?: string
  /** URL of developer documentation for the resource (§2 `resource_documentation`). */
  resourceDocumentation?: string
  /** URL of the resource's data-usage policy (§2 `resource_policy_uri`). */
  resourcePolicyUri?: string
  /** URL of the resource's terms of service (§2 `resource_tos_uri`). */
  resourceTosUri?: string
  /** URL of the resource's own JWK Set, e.g. for signed responses (§2 `jwks_uri`; `https`, `http` only to a loopback host). */
  jwksUri?: string
  /** JWS algorithms the resource signs responses with (§2 `resource_signing_alg_values_supported`; never `none`). */
  resourceSigningAlgValuesSupported?: readonly string[]
  /** RFC 9396 `authorization_details` types the resource understands (§2 `authorization_details_types_supported`). */
  authorizationDetailsTypesSupported?: readonly string[]
  /**
   * `Cache-Control: public, max-age=…` of the document, in seconds (RFC 9728 §7.10 asks for
   * caching directives; the document changes only with a deployment). Not a document member.
   * Default 3600. `0` sends `no-cache`.
   */
  maxAgeSec?: number
}

/** Default of {@link ResourceMetadataOptions.maxAgeSec}. */
export const DEFAULT_RESOURCE_METADATA_MAX_AGE_SEC = 3600

/** RFC 9728 §3: the registered well-known URI suffix. */
export const PROTECTED_RESOURCE_WELL_KNOWN_PATH = '/.well-known/oauth-protected-resource'

/** {@link ResourceMetadataOptions} checked, with the document serialised once. */
export interface ResourceMetadataSettings {
  /** The metadata URL of the resource (§3.1), sent as `resource_metadata="…"` (§5.1). */
  readonly url: string
  /** Request paths the document is served at: the §3.1 path and the bare well-known path. */
  readonly paths: readonly string[]
  /** The response headers (§3.2: `application/json`). */
  readonly headers: Readonly<Record<string, string>>
  /** The JSON document. */
  readonly body: string
}

const WHERE = 'bearer auth: resourceMetadata'

function invalid(message: string): never {
  throw new ConfigurationError(`${WHERE}.${message}`)
}

/** An absolute http(s) URL that is https or loopback http, without a fragment; returns it parsed. */
function secureUrl(value: unknown, name: string): URL {
  if (typeof value !== 'string' || value.trim() !== value || value === '') {
    invalid(`${name} must be a non-empty URL string`)
  }
  if (value.includes('#')) invalid(`${name} must not have a fragment`)
  let parsed: URL
  try {
    parsed = new URL(value)
  } catch {
    invalid(`${name} must be an absolute URL`)
  }
  if (!isSecureTransport(parsed)) invalid(`${name} must be an https URL (http only to a loopback host)`)
  if (parsed.username !== '' || parsed.password !== '') invalid(`${name} must not carry credentials`)
  return parsed
}

function optionalUrl(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined
  secureUrl(value, name)
  return value as string
}

function stringList(
  value: unknown,
  name: string,
  accept: (item: string) => boolean,
  rule: string,
): string[] | undefined {
  if (value === undefined) return undefined
  if (!Array.isArray(value)) invalid(`${name} must be an array of strings`)
  for (const item of value) {
    if (typeof item !== 'string' || !accept(item)) invalid(`${name}: ${rule}`)
  }
  return value.length === 0 ? undefined : [...new Set(value as string[])]
}

const printable = (s: string) => s !== '' && /^[\x20-\x7E]+$/.test(s)

/**
 * The metadata URL of a resource identifier (RFC 9728 §3.1): the well-known suffix goes between
 * the host and the path, and a path of just `/` (the "terminating slash following the host
 * component") is dropped, so `https://api.example.com/` and `https://api.example.com` both give
 * `https://api.example.com/.well-known/oauth-protected-resource`.
 */
export function resourceMetadataUrl(resource: URL): string {
  const path = resource.pathname === '/' ? '' : resource.pathname
  return `${resource.origin}${PROTECTED_RESOURCE_WELL_KNOWN_PATH}${path}`
}

/**
 * Checks the option and prepares the answer. `undefined` when the option is not given.
 *
 * @throws {ConfigurationError} naming the first invalid member.
 */
export function resolveResourceMetadata(
  options: unknown,
  dpop?: DpopPolicy,
): ResourceMetadataSettings | undefined {
  if (options === undefined) return undefined
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new ConfigurationError(`${WHERE} must be an object`)
  }
  const o = options as ResourceMetadataOptions
  const resource = secureUrl(o.resource, 'resource')
  // RFC 8707 §2 (which RFC 9728 §1.2 follows) advises against a query; with one, the metadata URL
  // would have to carry it too and a path-only match could serve the wrong document.
  if (resource.search !== '' || o.resource.includes('?')) invalid('resource must not have a query')
  if (!Array.isArray(o.authorizationServers) || o.authorizationServers.length === 0) {
    invalid('authorizationServers must list at least one issuer URL')
  }
  for (const server of o.authorizationServers) secureUrl(server, 'authorizationServers')
  const maxAgeSec = o.maxAgeSec ?? DEFAULT_RESOURCE_METADATA_MAX_AGE_SEC
  if (!Number.isSafeInteger(maxAgeSec) || maxAgeSec < 0) invalid('maxAgeSec must be a non-negative integer')
  if (o.resourceName !== undefined && (typeof o.resourceName !== 'string' || o.resourceName.trim() === '')) {
    invalid('resourceName must be a non-empty string')
  }
  const jwksUri = optionalUrl(o.jwksUri, 'jwksUri')

  // Insertion order is the document's member order: the RFC's order of §2.
  const document: Record<string, unknown> = {
    resource: o.resource,
    authorization_servers: [...new Set(o.authorizationServers)],
    jwks_uri: jwksUri,
    scopes_supported: stringList(
      o.scopesSupported,
      'scopesSupported',
      isScopeToken,
      'every scope must be an RFC 6749 scope-token',
    ),
    bearer_methods_supported: ['header'],
    resource_signing_alg_values_supported: stringList(
      o.resourceSigningAlgValuesSupported,
      'resourceSigningAlgValuesSupported',
      (alg) => printable(alg) && alg.toLowerCase() !== 'none',
      'every algorithm must be a JWS alg name other than "none"',
    ),
    resource_name: o.resourceName,
    resource_documentation: optionalUrl(o.resourceDocumentation, 'resourceDocumentation'),
    resource_policy_uri: optionalUrl(o.resourcePolicyUri, 'resourcePolicyUri'),
    resource_tos_uri: optionalUrl(o.resourceTosUri, 'resourceTosUri'),
    authorization_details_types_supported: stringList(
      o.authorizationDetailsTypesSupported,
      'authorizationDetailsTypesSupported',
      printable,
      'every type must be a non-empty string of printable ASCII',
    ),
    dpop_signing_alg_values_supported:
      dpop === undefined || dpop.mode === 'disabled' ? undefined : [...dpop.algorithms],
    dpop_bound_access_tokens_required: dpop?.mode === 'required' ? true : undefined,
  }
  const url = resourceMetadataUrl(resource)
  const suffixed = new URL(url).pathname
  return Object.freeze({
    url,
    paths: Object.freeze(
      suffixed === PROTECTED_RESOURCE_WELL_KNOWN_PATH
        ? [suffixed]
        : [suffixed, PROTECTED_RESOURCE_WELL_KNOWN_PATH],
    ),
    headers: Object.freeze({
      'Content-Type': 'application/json',
      'Cache-Control': maxAgeSec === 0 ? 'no-cache' : `public, max-age=${maxAgeSec}`,
    }),
    // JSON.stringify leaves out the members that are undefined.
    body: JSON.stringify(document),
  })
}

/**
 * Whether a request is one for the metadata document: `GET` or `HEAD` (§3.1 names GET; HEAD is its
 * body-less twin) at one of the document's paths. `target` is the request target (path and
 * optional query); the query is ignored.
 */
export function isResourceMetadataRequest(
  settings: ResourceMetadataSettings | undefined,
  method: string | undefined,
  target: string | undefined,
): settings is ResourceMetadataSettings {
  if (settings === undefined || (method !== 'GET' && method !== 'HEAD') || target === undefined) return false
  const mark = target.indexOf('?')
  const path = mark === -1 ? target : target.slice(0, mark)
  return settings.paths.includes(path)
}
