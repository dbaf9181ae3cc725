/**
 * Authorization server metadata discovery (RFC 8414), with OpenID Connect Discovery 1.0 as the
 * fallback.
 *
 * @module discovery
 */
import { LRUCache } from 'lru-cache'
import type { Dispatcher } from 'undici'
import { abortable } from './abortable.js'
import { deepFreeze } from './deep-freeze.js'
import { DiscoveryError, HttpError } from './errors.js'
import { type JsonResponse, requestJson } from './json-request.js'
import { isSecureTransport } from './transport-security.js'

/** Authorization server metadata (RFC 8414 §2). Members not listed are kept as received. */
export interface AuthorizationServerMetadata {
  /** The issuer identifier; always equal to the one discovery was asked for. */
  issuer: string
  /** URL of the token endpoint (RFC 6749 §3.2). */
  token_endpoint?: string
  /** URL of the issuer's JWK Set (RFC 7517). */
  jwks_uri?: string
  /** URL of the introspection endpoint (RFC 7662). */
  introspection_endpoint?: string
  /** URL of the revocation endpoint (RFC 7009). */
  revocation_endpoint?: string
  /** Client authentication methods the token endpoint accepts. */
  token_endpoint_auth_methods_supported?: string[]
  /** JWS algorithms accepted for `private_key_jwt` and `client_secret_jwt` at the token endpoint. */
  token_endpoint_auth_signing_alg_values_supported?: string[]
  /** Scopes the server supports. */
  scopes_supported?: string[]
  /** Grant types the server supports. */
  grant_types_supported?: string[]
  [member: string]: unknown
}

/** Options of {@link discover}. */
export interface DiscoveryOptions {
  /** undici dispatcher to fetch through; results are cached per dispatcher. Default: undici's global dispatcher. */
  dispatcher?: Dispatcher
  /** Time limit of each HTTP request (the OIDC fallback gets its own), in milliseconds. Default 10 000. */
  timeoutMs?: number
  /**
   * Stops waiting: the call rejects with the signal's reason. A fetch shared with other callers
   * goes on for them.
   */
  signal?: AbortSignal
  /** How long a successful answer is reused, in milliseconds. Default 3 600 000 (1 h); 0 disables caching. */
  cacheTtlMs?: number
  /** Clock for `cacheTtlMs`, epoch ms. Default `Date.now`. */
  now?: () => number
  /**
   * Accept `http:` for the issuer and its endpoints on any host, not only on loopback: for
   * docker-compose style hosts on a private network. Tokens and credentials then travel in clear.
   * Default `false`.
   */
  allowInsecureHttp?: boolean
}

/** Default of {@link DiscoveryOptions.timeoutMs}. */
export const DEFAULT_DISCOVERY_TIMEOUT_MS = 10_000
/** Default of {@link DiscoveryOptions.cacheTtlMs}. */
export const DEFAULT_DISCOVERY_CACHE_TTL_MS = 60 * 60_000

/** Issuers remembered per dispatcher; a process talks to a handful. */
const MAX_CACHED_ISSUERS = 256
/** Metadata documents are a few KiB. */
const MAX_METADATA_BYTES = 256 * 1024

/** Metadata members that must be lists of strings when present. */
const STRING_LIST_MEMBERS = [
  'token_endpoint_auth_methods_supported',
  'token_endpoint_auth_signing_alg_values_supported',
  'introspection_endpoint_auth_methods_supported',
  'introspection_endpoint_auth_signing_alg_values_supported',
  'revocation_endpoint_auth_methods_supported',
  'revocation_endpoint_auth_signing_alg_values_supported',
  'scopes_supported',
  'grant_types_supported',
  'response_types_supported',
  'code_challenge_methods_supported',
] as const

/** A cached answer and when it stops being reused, epoch ms by the caller's clock. */
interface CachedMetadata {
  readonly metadata: AuthorizationServerMetadata
  readonly expiresAtMs: number
}

interface DiscoveryStore {
  readonly results: LRUCache<string, CachedMetadata>
  readonly inflight: Map<string, Promise<AuthorizationServerMetadata>>
}

function newStore(): DiscoveryStore {
  // Bounded by count only: expiry is judged on each read with the caller's clock (`now`).
  return { results: new LRUCache<string, CachedMetadata>({ max: MAX_CACHED_ISSUERS }), inflight: new Map() }
}

let defaultStore = newStore()
let storesByDispatcher = new WeakMap<Dispatcher, DiscoveryStore>()

function storeFor(dispatcher: Dispatcher | undefined): DiscoveryStore {
  if (dispatcher === undefined) return defaultStore
  let store = storesByDispatcher.get(dispatcher)
  if (store === undefined) {
    store = newStore()
    storesByDispatcher.set(dispatcher, store)
  }
  return store
}

/**
 * Fetches the metadata of an authorization server.
 *
 * The RFC 8414 §3.1 document is asked for first, at the well-known path inserted between host
 * and path (`https://as.example/tenant` → `https://as.example/.well-known/oauth-authorization-server/tenant`);
 * if that answers 404, the OpenID Connect Discovery document at
 * `{issuer}/.well-known/openid-configuration`.
 *
 * The answer is checked before it is used:
 * - its `issuer` must equal `issuer` exactly (RFC 8414 §3.3, against mix-up attacks);
 * - `issuer` and every endpoint (`*_endpoint`, `jwks_uri`, `mtls_endpoint_aliases`) must be
 *   `https:` URLs; plain `http:` is allowed only for loopback hosts (`localhost`, 127.0.0.0/8,
 *   `[::1]`), for local development and tests;
 * - lists such as `scopes_supported` must be arrays of strings.
 *
 * Successful answers are cached per issuer and dispatcher for `cacheTtlMs`; concurrent calls for
 * the same issuer and dispatcher share one fetch; failures are never cached. The returned object
 * is frozen, as it is shared.
 *
 * @throws {DiscoveryError} for any failure (bad issuer, network, timeout, status, body,
 *   validation), with the underlying error as `cause`.
 * @throws the reason of `signal` when it aborts.
 */
export async function discover(
  issuer: string,
  options: DiscoveryOptions = {},
): Promise<AuthorizationServerMetadata> {
  const transport = transportRule(options.allowInsecureHttp === true)
  const issuerUrl = parseIssuer(issuer, transport)
  options.signal?.throwIfAborted()
  const store = storeFor(options.dispatcher)
  const now = options.now ?? Date.now
  // A document checked under the looser rule must never be served to a caller of the strict one.
  const key = options.allowInsecureHttp === true ? `insecure-http-allowed ${issuer}` : issuer
  const cached = store.results.get(key)
  if (cached !== undefined) {
    if (now() <= cached.expiresAtMs) return cached.metadata
    store.results.delete(key)
  }

  let shared = store.inflight.get(key)
  if (shared === undefined) {
    const ttlMs = options.cacheTtlMs ?? DEFAULT_DISCOVERY_CACHE_TTL_MS
    shared = fetchMetadata(issuer, issuerUrl, transport, options)
      .then((metadata) => {
        if (ttlMs > 0) store.results.set(key, { metadata, expiresAtMs: now() + ttlMs })
        return metadata
      })
      .finally(() => store.inflight.delete(key))
    store.inflight.set(key, shared)
    // Every caller may have stopped waiting (signal) by the time it settles.
    shared.catch(() => {})
  }
  return abortable(shared, options.signal)
}

/** Forgets every cached discovery result, for every dispatcher. Fetches under way are not cancelled. */
export function clearDiscoveryCache(): void {
  defaultStore = newStore()
  storesByDispatcher = new WeakMap()
}

async function fetchMetadata(
  issuer: string,
  issuerUrl: URL,
  transport: TransportRule,
  options: DiscoveryOptions,
): Promise<AuthorizationServerMetadata> {
  try {
    const res =
      (await fetchDocument(rfc8414Url(issuerUrl), options)) ??
      (await fetchDocument(oidcDiscoveryUrl(issuerUrl), options))
    if (res === undefined)
      throw new DiscoveryError(`no metadata for issuer ${issuer}: both well-known URLs answered 404`)
    if (res.status !== 200) throw new DiscoveryError(`metadata endpoint of ${issuer} answered ${res.status}`)
    return deepFreeze(validateMetadata(res.body, issuer, transport))
  } catch (err) {
    if (err instanceof DiscoveryError) throw err
    const detail = err instanceof Error ? `: ${err.message}` : ''
    throw new DiscoveryError(`discovery of ${issuer} failed${detail}`, { cause: err })
  }
}

/** The answer, or `undefined` for a 404 (whatever its body), which sends discovery on to the fallback. */
async function fetchDocument(url: URL, options: DiscoveryOptions): Promise<JsonResponse | undefined> {
  try {
    const res = await requestJson(url, {
      timeoutMs: options.timeoutMs ?? DEFAULT_DISCOVERY_TIMEOUT_MS,
      maxBodyBytes: MAX_METADATA_BYTES,
      purpose: 'authorization server metadata endpoint',
      ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
    })
    return res.status === 404 ? undefined : res
  } catch (err) {
    if (err instanceof HttpError && err.status === 404) return undefined
    throw err
  }
}

/** RFC 8414 §3.1: the well-known segment goes between the host and the issuer's path. */
function rfc8414Url(issuer: URL): URL {
  const path = issuer.pathname === '/' ? '' : issuer.pathname.replace(/\/$/, '')
  return new URL(`/.well-known/oauth-authorization-server${path}`, issuer.origin)
}

/** OpenID Connect Discovery 1.0 §4: the well-known path is appended to the issuer. */
function oidcDiscoveryUrl(issuer: URL): URL {
  return new URL(`${issuer.href.replace(/\/$/, '')}/.well-known/openid-configuration`)
}

/** Which URLs may carry the exchange: `isSecureTransport`, or any http(s) URL when allowed. */
interface TransportRule {
  accepts(url: URL): boolean
  readonly requirement: string
}

function transportRule(allowInsecureHttp: boolean): TransportRule {
  return allowInsecureHttp
    ? {
        accepts: (url) => url.protocol === 'https:' || url.protocol === 'http:',
        requirement: 'an http(s) URL',
      }
    : { accepts: isSecureTransport, requirement: 'an https URL (http only for loopback hosts)' }
}

/** RFC 8414 §2: an https URL without query or fragment (http only on loopback, unless allowed). */
function parseIssuer(issuer: string, transport: TransportRule): URL {
  let url: URL | undefined
  try {
    url = typeof issuer === 'string' ? new URL(issuer) : undefined
  } catch {
    // reported below
  }
  if (url === undefined) throw new DiscoveryError('the issuer is not an absolute URL')
  if (!transport.accepts(url)) {
    throw new DiscoveryError(`the issuer ${issuer} must be ${transport.requirement}`)
  }
  if (url.search !== '' || url.hash !== '' || issuer.includes('?') || issuer.includes('#')) {
    throw new DiscoveryError(`the issuer ${issuer} must not have a query or fragment`)
  }
  return url
}

function validateMetadata(
  body: unknown,
  issuer: string,
  transport: TransportRule,
): AuthorizationServerMetadata {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new DiscoveryError(`metadata of ${issuer} is not a JSON object`)
  }
  const metadata = body as Record<string, unknown>
  if (metadata.issuer !== issuer) {
    // RFC 8414 §3.3: a document for another issuer must never be used.
    const named =
      typeof metadata.issuer === 'string' ? JSON.stringify(metadata.issuer.slice(0, 200)) : 'no issuer'
    throw new DiscoveryError(`metadata for ${issuer} names ${named}`)
  }
  for (const [name, value] of Object.entries(metadata)) {
    if (name === 'jwks_uri' || name.endsWith('_endpoint')) checkEndpoint(name, value, issuer, transport)
  }
  const aliases = metadata.mtls_endpoint_aliases
  if (aliases !== undefined) {
    if (typeof aliases !== 'object' || aliases === null || Array.isArray(aliases)) {
      throw new DiscoveryError(`metadata of ${issuer}: mtls_endpoint_aliases is not an object`)
    }
    for (const [name, value] of Object.entries(aliases))
      checkEndpoint(`mtls_endpoint_aliases.${name}`, value, issuer, transport)
  }
  for (const name of STRING_LIST_MEMBERS) {
    const value = metadata[name]
    if (value !== undefined && !(Array.isArray(value) && value.every((item) => typeof item === 'string'))) {
      throw new DiscoveryError(`metadata of ${issuer}: ${name} is not an array of strings`)
    }
  }
  return metadata as AuthorizationServerMetadata
}

function checkEndpoint(name: string, value: unknown, issuer: string, transport: TransportRule): void {
  let url: URL | undefined
  try {
    url = typeof value === 'string' ? new URL(value) : undefined
  } catch {
    // reported below
  }
  if (url === undefined || !transport.accepts(url)) {
    throw new DiscoveryError(`metadata of ${issuer}: ${name} must be ${transport.requirement}`)
  }
}
