/**
 * The server's configuration: its shape, its defaults, and the validation that refuses a bad one
 * at start with a message naming the offending field (`clients[1].token_endpoint_auth_method`).
 *
 * @module config
 */
import { ConfigurationError } from '@oauth-m2m/core'
import type { JWK } from 'jose'
import type { ServerStore } from './server-store.js'
import type { SigningAlg } from './signing/signing-keys.js'

/** Client authentication methods a client may register (RFC 7591 `token_endpoint_auth_method`). */
export type TokenEndpointAuthMethod =
  | 'client_secret_basic'
  | 'client_secret_post'
  | 'client_secret_jwt'
  | 'private_key_jwt'
  | 'none'

/** Format of the access tokens issued for a resource. */
export type TokenFormat = 'jwt' | 'opaque'

/**
 * One registered client, described with RFC 7591 metadata names, plus a few extensions in the same
 * style (`client_secrets`, `client_secret_hash`, `resources`, `allow_multiple_resources`). Other
 * RFC 7591 members (`client_name`, …) are accepted and ignored.
 */
export interface ClientMetadata {
  /** The client identifier. */
  client_id: string
  /** The client secret, hashed at load. */
  client_secret?: string
  /** Further secrets accepted at the same time, so that a secret can be rotated without downtime. */
  client_secrets?: string[]
  /**
   * Precomputed secrets instead of clear ones: base64url of the SHA-256 digest of each secret.
   * Not usable with `client_secret_jwt`, which needs the secret itself as the HMAC key.
   */
  client_secret_hash?: string | string[]
  /** How the client authenticates. Default `client_secret_basic` (RFC 7591 §2). */
  token_endpoint_auth_method?: TokenEndpointAuthMethod
  /** Grants the client may use. Default `["client_credentials"]`, the only grant this server offers. */
  grant_types?: string[]
  /** Space-separated scopes the client may request; also what it gets when it asks for none. */
  scope?: string
  /** The client's public keys for `private_key_jwt`. */
  jwks?: { keys: JWK[] }
  /** Where the client publishes its public keys for `private_key_jwt`. */
  jwks_uri?: string
  /** The one JWS algorithm the client's assertions must use. Default: any allowed for the method. */
  token_endpoint_auth_signing_alg?: string
  /** Resource indicators (RFC 8707) the client may request. Default: every configured resource. */
  resources?: string[]
  /** Whether one token may name several resources (an `aud` array). Default `false`. */
  allow_multiple_resources?: boolean
  /** Other RFC 7591 metadata, ignored. */
  [member: string]: unknown
}

/**
 * A registered client as the server shows it (`getClient`): its RFC 7591 metadata with the
 * server's defaults filled in and every secret left out — no `client_secret`, `client_secrets` or
 * `client_secret_hash`. Public keys (`jwks`) are not secret and are shown.
 */
export interface PublicClientMetadata {
  /** The client identifier. */
  client_id: string
  /** How the client authenticates. */
  token_endpoint_auth_method: TokenEndpointAuthMethod
  /** Grants the client may use. */
  grant_types: string[]
  /** Space-separated scopes the client may request. */
  scope?: string
  /** The client's public keys for `private_key_jwt`. */
  jwks?: { keys: JWK[] }
  /** Where the client publishes its public keys for `private_key_jwt`. */
  jwks_uri?: string
  /** The one JWS algorithm the client's assertions must use. */
  token_endpoint_auth_signing_alg?: string
  /** Resource indicators (RFC 8707) the client may request. */
  resources?: string[]
  /** Whether one token may name several resources. */
  allow_multiple_resources?: boolean
  /** Other RFC 7591 metadata, as registered. */
  [member: string]: unknown
}

/** Settings of one protected resource (RFC 8707 resource indicator). */
export interface ResourceConfig {
  /** The resource indicator: an absolute URI without fragment. */
  resource: string
  /** The `aud` of tokens for this resource. Default: the resource indicator itself. */
  audience?: string
  /** Format of tokens for this resource. Default: the server's `tokenFormat`. */
  tokenFormat?: TokenFormat
  /** Lifetime of tokens for this resource, in seconds. Default: the server's `accessTokenLifetimeSec`. */
  accessTokenLifetimeSec?: number
}

/**
 * Brute-force protection for client authentication (RFC 6749 §2.3.1). Failures are counted per
 * client id and source address (the socket's peer for `listen()`; `remoteAddress` for `handle()`),
 * so that whoever knows a client id cannot lock the client out from elsewhere, and per client id
 * alone under a much higher ceiling that bounds guessing spread over many addresses.
 */
export interface RateLimitConfig {
  /**
   * Failed authentications of one client id from one source address within the window before that
   * address is refused for that id. Default 10.
   */
  maxFailures?: number
  /**
   * Failed authentications of one client id from all addresses together within the window before
   * the id is refused to everyone. Default 1000.
   */
  maxFailuresPerClient?: number
  /**
   * Most counting windows, and separately most live locks, kept in memory (each for the per-address
   * and the per-id counts). A live lock is never evicted to make room for other ids; when the lock
   * table is full, an id's first failure locks it. Default 10 000.
   */
  maxTrackedIds?: number
  /** Length of the window, in milliseconds, counted from the first failure. Default 60 000. */
  windowMs?: number
}

/** Options of `createAuthorizationServer`; the JSON config file holds the same object. */
export interface AuthorizationServerConfig {
  /**
   * The issuer identifier (an `http(s)` URL without query or fragment). Default: the URL of the
   * first `listen()`, or the origin of the first request given to `handle()`.
   */
  issuer?: string
  /** The registered clients. */
  clients: ClientMetadata[]
  /** Protected resources that clients may name with `resource` (RFC 8707). Default none. */
  resources?: ResourceConfig[]
  /** `aud` of tokens requested without `resource`. Default: the issuer. */
  defaultAudience?: string
  /** Token format when neither the resource nor the request chooses one. Default `jwt`. */
  tokenFormat?: TokenFormat
  /** Access token lifetime, in seconds. Default 3600. */
  accessTokenLifetimeSec?: number
  /** Access token signing keys. Default: one generated ES256 key. */
  signing?: { alg?: SigningAlg; keys?: JWK[] }
  /**
   * Longest accepted lifetime of a client assertion (`exp` − now), in seconds. Default 3600: what
   * Python's authlib signs by default (MSAL signs 600 s, oauth4webapi 60 s). Replay protection does
   * not weaken with it, as each `jti` is remembered until the assertion's `exp`.
   */
  assertionMaxLifetimeSec?: number
  /** Clock tolerance for client assertions' `exp`, `nbf` and `iat`, in seconds. Default 30. */
  clockSkewSec?: number
  /**
   * Brute-force protection, or `false` to turn it off. Default
   * `{ maxFailures: 10, maxFailuresPerClient: 1000, windowMs: 60000, maxTrackedIds: 10000 }`.
   */
  rateLimit?: RateLimitConfig | false
  /** Largest accepted request body, in bytes; larger ones get 413. Default 65 536. */
  maxBodyBytes?: number
  /** `realm` of `WWW-Authenticate: Basic` on 401 answers. Default `oauth-m2m`. */
  realm?: string
  /** Time-out for fetching a client's `jwks_uri`, in milliseconds. Default 5000. */
  jwksUriTimeoutMs?: number
  /**
   * Longest time a client may take to send a whole request (headers and body) to a `listen()`
   * listener, in milliseconds; past it the server answers 408 and closes the connection. Default
   * 10 000: a token request is a few hundred bytes, and Node's own default (300 000) lets a client
   * that trickles its body hold a socket for five minutes.
   */
  requestTimeoutMs?: number
  /**
   * Longest time a client may take to send the request headers, in milliseconds; past it, 408 and
   * the connection closed. At most `requestTimeoutMs`. Default 5000.
   */
  headersTimeoutMs?: number
  /** How long an idle keep-alive connection stays open after an answer, in milliseconds. Default 5000. */
  keepAliveTimeoutMs?: number
  /** Where opaque tokens, revocations and used assertion ids are kept. Default: in memory. */
  store?: ServerStore
  /**
   * Called with an unexpected internal error (which the caller sees as a 500). Default: writes the
   * error's name and message to stderr. Never given request data.
   */
  onInternalError?: (error: unknown) => void
}

/** A validated configuration with every default filled in. */
export interface ResolvedConfig {
  issuer: string | undefined
  clients: ClientMetadata[]
  resources: Required<ResourceConfig>[]
  defaultAudience: string | undefined
  tokenFormat: TokenFormat
  accessTokenLifetimeSec: number
  signing: { alg?: SigningAlg; keys?: JWK[] }
  assertionMaxLifetimeSec: number
  clockSkewSec: number
  rateLimit: Required<RateLimitConfig> | false
  maxBodyBytes: number
  realm: string
  jwksUriTimeoutMs: number
  requestTimeoutMs: number
  headersTimeoutMs: number
  keepAliveTimeoutMs: number
  store: ServerStore | undefined
  onInternalError: (error: unknown) => void
}

const AUTH_METHODS: readonly TokenEndpointAuthMethod[] = [
  'client_secret_basic',
  'client_secret_post',
  'client_secret_jwt',
  'private_key_jwt',
  'none',
]
const SIGNING_ALGS: readonly SigningAlg[] = ['ES256', 'RS256', 'PS256', 'EdDSA']

/** Assertion algorithms per method (RFC 7518): HMAC only with the secret, asymmetric only with registered keys. */
export const ASSERTION_ALGS = {
  client_secret_jwt: ['HS256', 'HS384', 'HS512'],
  private_key_jwt: ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'],
} as const

const TOP_LEVEL_KEYS = new Set([
  'issuer',
  'clients',
  'resources',
  'defaultAudience',
  'tokenFormat',
  'accessTokenLifetimeSec',
  'signing',
  'assertionMaxLifetimeSec',
  'clockSkewSec',
  'rateLimit',
  'maxBodyBytes',
  'realm',
  'jwksUriTimeoutMs',
  'requestTimeoutMs',
  'headersTimeoutMs',
  'keepAliveTimeoutMs',
  'store',
  'onInternalError',
  '$schema',
])
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/
const SHA256_B64URL = /^[A-Za-z0-9_-]{43}$/

/** A field that failed validation; the entry points turn it into a {@link ConfigurationError}. */
class InvalidField extends Error {
  constructor(
    readonly field: string,
    readonly problem: string,
  ) {
    super(`${field} ${problem}`)
  }
}

function fail(field: string, problem: string): never {
  throw new InvalidField(field, problem)
}

/** Runs `validate`, reporting an invalid field as a ConfigurationError about `subject`. */
function validating<T>(subject: string, validate: () => T): T {
  try {
    return validate()
  } catch (error) {
    if (error instanceof InvalidField) {
      throw new ConfigurationError(`invalid ${subject}: ${error.field} ${error.problem}`)
    }
    throw error
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function optionalString(value: unknown, field: string): string | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string' || value === '') fail(field, 'must be a non-empty string')
  return value
}

function stringArray(value: unknown, field: string): string[] {
  if (!Array.isArray(value)) fail(field, 'must be an array of strings')
  value.forEach((item, i) => {
    if (typeof item !== 'string' || item === '') fail(`${field}[${i}]`, 'must be a non-empty string')
  })
  return value as string[]
}

function positiveInt(value: unknown, field: string, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    fail(field, 'must be a positive integer')
  }
  return value
}

function nonNegativeInt(value: unknown, field: string, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    fail(field, 'must be a non-negative integer')
  }
  return value
}

function tokenFormat(value: unknown, field: string): TokenFormat | undefined {
  if (value === undefined) return undefined
  if (value !== 'jwt' && value !== 'opaque') fail(field, 'must be "jwt" or "opaque"')
  return value
}

/** True when `value` is an absolute URI without a fragment, as RFC 8707 §2 requires of `resource`. */
export function isAbsoluteUriWithoutFragment(value: string): boolean {
  if (value.includes('#') || !/^[A-Za-z][A-Za-z0-9+.-]*:/.test(value)) return false
  return URL.canParse(value)
}

function validateIssuer(value: unknown, field: string): string | undefined {
  const issuer = optionalString(value, field)
  if (issuer === undefined) return undefined
  if (!URL.canParse(issuer)) fail(field, 'must be an absolute URL')
  const url = new URL(issuer)
  if (url.protocol !== 'https:' && url.protocol !== 'http:') fail(field, 'must be an http or https URL')
  if (url.search !== '' || url.hash !== '' || issuer.includes('?') || issuer.includes('#')) {
    fail(field, 'must not have a query or fragment (RFC 8414 section 2)')
  }
  return issuer
}

function validateJwks(value: unknown, field: string): void {
  if (!isObject(value) || !Array.isArray(value.keys) || value.keys.length === 0) {
    fail(field, 'must be a JWK Set object with a non-empty "keys" array')
  }
  value.keys.forEach((key: unknown, i: number) => {
    if (!isObject(key) || typeof key.kty !== 'string') fail(`${field}.keys[${i}]`, 'must be a JWK with "kty"')
    if (key.kty === 'oct') fail(`${field}.keys[${i}]`, 'must be a public key, not a symmetric one')
    if (key.d !== undefined)
      fail(`${field}.keys[${i}]`, 'must be a public key; it holds private key material')
  })
}

/** Whether `value` is plain JSON data (no functions, class instances, cycles or non-finite numbers). */
function isJsonValue(value: unknown, ancestors: object[] = []): boolean {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true
  if (typeof value === 'number') return Number.isFinite(value)
  if (typeof value !== 'object' || ancestors.includes(value)) return false
  const prototype = Object.getPrototypeOf(value)
  if (!Array.isArray(value) && prototype !== Object.prototype && prototype !== null) return false
  const path = [...ancestors, value]
  return Object.values(value).every((item) => isJsonValue(item, path))
}

/**
 * @param field Where the client sits (`clients[1]`), prefixed to member names; `undefined` names
 *   the members alone.
 */
function validateClient(
  value: unknown,
  field: string | undefined,
  resourceUris: ReadonlySet<string>,
  seenIds: Set<string>,
): ClientMetadata {
  const member = (name: string) => (field === undefined ? name : `${field}.${name}`)
  if (!isObject(value)) fail(field ?? 'client metadata', 'must be an object of RFC 7591 client metadata')
  for (const [name, given] of Object.entries(value)) {
    // RFC 7591 metadata is JSON; anything else could not be shown back by getClient. An
    // undefined member is simply absent.
    if (given !== undefined && !isJsonValue(given)) fail(member(name), 'must be a JSON value')
  }
  const clientId = optionalString(value.client_id, member('client_id'))
  if (clientId === undefined) fail(member('client_id'), 'is required')
  if (seenIds.has(clientId)) fail(member('client_id'), 'is registered twice')
  seenIds.add(clientId)

  const method = value.token_endpoint_auth_method ?? 'client_secret_basic'
  if (!AUTH_METHODS.includes(method as TokenEndpointAuthMethod)) {
    fail(member('token_endpoint_auth_method'), `must be one of ${AUTH_METHODS.join(', ')}`)
  }
  optionalString(value.client_secret, member('client_secret'))
  if (value.client_secrets !== undefined) stringArray(value.client_secrets, member('client_secrets'))
  const hashes = value.client_secret_hash
  if (hashes !== undefined) {
    const list = typeof hashes === 'string' ? [hashes] : stringArray(hashes, member('client_secret_hash'))
    for (const hash of list) {
      if (!SHA256_B64URL.test(hash)) {
        fail(member('client_secret_hash'), 'must be the base64url SHA-256 digest of a secret (43 characters)')
      }
    }
  }
  const hasClearSecret =
    value.client_secret !== undefined || (value.client_secrets as unknown[] | undefined)?.length
  const usesSecret = method === 'client_secret_basic' || method === 'client_secret_post'
  if (usesSecret && !hasClearSecret && hashes === undefined) {
    fail(member('client_secret'), `is required for ${method}`)
  }
  if (method === 'client_secret_jwt' && !hasClearSecret) {
    fail(member('client_secret'), 'is required for client_secret_jwt (the secret is the HMAC key)')
  }
  if (value.jwks !== undefined) validateJwks(value.jwks, member('jwks'))
  const jwksUri = optionalString(value.jwks_uri, member('jwks_uri'))
  if (jwksUri !== undefined && (!URL.canParse(jwksUri) || !/^https?:/.test(jwksUri))) {
    fail(member('jwks_uri'), 'must be an http or https URL')
  }
  if (value.jwks !== undefined && jwksUri !== undefined)
    fail(member('jwks_uri'), 'must not be given with jwks')
  if (method === 'private_key_jwt' && value.jwks === undefined && jwksUri === undefined) {
    fail(member('jwks'), 'or jwks_uri is required for private_key_jwt')
  }
  const signingAlg = optionalString(
    value.token_endpoint_auth_signing_alg,
    member('token_endpoint_auth_signing_alg'),
  )
  if (signingAlg !== undefined) {
    const allowed: readonly string[] =
      method === 'client_secret_jwt'
        ? ASSERTION_ALGS.client_secret_jwt
        : method === 'private_key_jwt'
          ? ASSERTION_ALGS.private_key_jwt
          : []
    if (!allowed.includes(signingAlg)) {
      fail(member('token_endpoint_auth_signing_alg'), `is not an algorithm allowed for ${String(method)}`)
    }
  }
  if (value.grant_types !== undefined) stringArray(value.grant_types, member('grant_types'))
  if (value.scope !== undefined) {
    if (typeof value.scope !== 'string') fail(member('scope'), 'must be a space-separated string')
    for (const scope of value.scope.split(' ').filter(Boolean)) {
      if (!SCOPE_TOKEN.test(scope))
        fail(member('scope'), 'holds a value outside the RFC 6749 scope-token grammar')
    }
  }
  if (value.resources !== undefined) {
    stringArray(value.resources, member('resources')).forEach((uri, i) => {
      if (!resourceUris.has(uri)) fail(member(`resources[${i}]`), 'names a resource missing from "resources"')
    })
  }
  if (value.allow_multiple_resources !== undefined && typeof value.allow_multiple_resources !== 'boolean') {
    fail(member('allow_multiple_resources'), 'must be a boolean')
  }
  return value as ClientMetadata
}

function validateResource(
  value: unknown,
  field: string,
  defaults: ResolvedDefaults,
): Required<ResourceConfig> {
  if (!isObject(value)) fail(field, 'must be an object')
  for (const key of Object.keys(value)) {
    if (!['resource', 'audience', 'tokenFormat', 'accessTokenLifetimeSec'].includes(key)) {
      fail(`${field}.${key}`, 'is not a known option')
    }
  }
  const resource = optionalString(value.resource, `${field}.resource`)
  if (resource === undefined) fail(`${field}.resource`, 'is required')
  if (!isAbsoluteUriWithoutFragment(resource))
    fail(`${field}.resource`, 'must be an absolute URI without fragment')
  return {
    resource,
    audience: optionalString(value.audience, `${field}.audience`) ?? resource,
    tokenFormat: tokenFormat(value.tokenFormat, `${field}.tokenFormat`) ?? defaults.tokenFormat,
    accessTokenLifetimeSec: positiveInt(
      value.accessTokenLifetimeSec,
      `${field}.accessTokenLifetimeSec`,
      defaults.accessTokenLifetimeSec,
    ),
  }
}

function validateRealm(value: unknown): string {
  const realm = optionalString(value, 'realm') ?? 'oauth-m2m'
  // The realm goes into a quoted-string of WWW-Authenticate; keep it to plain printable ASCII.
  if (!/^[\x20\x21\x23-\x5b\x5d-\x7e]+$/.test(realm))
    fail('realm', 'must be printable ASCII without quotes or backslashes')
  return realm
}

interface ResolvedDefaults {
  tokenFormat: TokenFormat
  accessTokenLifetimeSec: number
}

function defaultInternalErrorLogger(error: unknown): void {
  // Name and message only: an internal error's other properties could hold request data.
  const summary = error instanceof Error ? `${error.name}: ${error.message}` : 'non-Error value thrown'
  process.stderr.write(`[m2m-server] internal error: ${summary}\n`)
}

/**
 * Validates the metadata of one client registered at run time, by the rules of the config file's
 * `clients` entries. Whether the `client_id` is free is the registry's to say.
 *
 * @param resourceUris The configured resource indicators, which `resources` may name.
 * @throws {ConfigurationError} naming the first invalid member, e.g. `scope`.
 */
export function validateClientMetadata(value: unknown, resourceUris: ReadonlySet<string>): ClientMetadata {
  return validating('client metadata', () => validateClient(value, undefined, resourceUris, new Set()))
}

/**
 * Validates a configuration object (from code or a JSON file) and fills in the defaults.
 *
 * @throws {ConfigurationError} naming the first invalid field.
 */
export function resolveConfig(input: unknown): ResolvedConfig {
  return validating('server configuration', () => resolveValidConfig(input))
}

function resolveValidConfig(input: unknown): ResolvedConfig {
  if (!isObject(input)) fail('configuration', 'must be an object')
  for (const key of Object.keys(input)) {
    if (!TOP_LEVEL_KEYS.has(key)) fail(key, 'is not a known option')
  }
  const defaults: ResolvedDefaults = {
    tokenFormat: tokenFormat(input.tokenFormat, 'tokenFormat') ?? 'jwt',
    accessTokenLifetimeSec: positiveInt(input.accessTokenLifetimeSec, 'accessTokenLifetimeSec', 3600),
  }
  if (input.resources !== undefined && !Array.isArray(input.resources)) fail('resources', 'must be an array')
  const resources = ((input.resources as unknown[] | undefined) ?? []).map((r, i) =>
    validateResource(r, `resources[${i}]`, defaults),
  )
  const resourceUris = new Set<string>()
  resources.forEach((r, i) => {
    if (resourceUris.has(r.resource)) fail(`resources[${i}].resource`, 'is configured twice')
    resourceUris.add(r.resource)
  })
  if (!Array.isArray(input.clients)) fail('clients', 'must be an array of RFC 7591 client metadata objects')
  const seenIds = new Set<string>()
  const clients = input.clients.map((c, i) => validateClient(c, `clients[${i}]`, resourceUris, seenIds))

  const signing = input.signing
  if (signing !== undefined) {
    if (!isObject(signing)) fail('signing', 'must be an object')
    if (signing.alg !== undefined && !SIGNING_ALGS.includes(signing.alg as SigningAlg)) {
      fail('signing.alg', `must be one of ${SIGNING_ALGS.join(', ')}`)
    }
    if (signing.keys !== undefined) {
      if (!Array.isArray(signing.keys) || signing.keys.length === 0)
        fail('signing.keys', 'must be a non-empty array')
      signing.keys.forEach((key, i) => {
        if (!isObject(key) || typeof key.kty !== 'string' || key.d === undefined) {
          fail(`signing.keys[${i}]`, 'must be a private JWK')
        }
      })
    }
  }
  let rateLimit: Required<RateLimitConfig> | false = {
    maxFailures: 10,
    maxFailuresPerClient: 1000,
    windowMs: 60_000,
    maxTrackedIds: 10_000,
  }
  if (input.rateLimit === false) rateLimit = false
  else if (input.rateLimit !== undefined) {
    if (!isObject(input.rateLimit)) fail('rateLimit', 'must be an object or false')
    rateLimit = {
      maxFailures: positiveInt(input.rateLimit.maxFailures, 'rateLimit.maxFailures', 10),
      maxFailuresPerClient: positiveInt(
        input.rateLimit.maxFailuresPerClient,
        'rateLimit.maxFailuresPerClient',
        1000,
      ),
      windowMs: positiveInt(input.rateLimit.windowMs, 'rateLimit.windowMs', 60_000),
      maxTrackedIds: positiveInt(input.rateLimit.maxTrackedIds, 'rateLimit.maxTrackedIds', 10_000),
    }
  }
  const requestTimeoutMs = positiveInt(input.requestTimeoutMs, 'requestTimeoutMs', 10_000)
  const headersTimeoutMs = positiveInt(
    input.headersTimeoutMs,
    'headersTimeoutMs',
    Math.min(5000, requestTimeoutMs),
  )
  // node:http refuses a headers time-out longer than the request time-out.
  if (headersTimeoutMs > requestTimeoutMs) fail('headersTimeoutMs', 'must not exceed requestTimeoutMs')
  if (input.store !== undefined && !isObject(input.store)) fail('store', 'must be a ServerStore object')
  if (input.onInternalError !== undefined && typeof input.onInternalError !== 'function') {
    fail('onInternalError', 'must be a function')
  }
  return {
    issuer: validateIssuer(input.issuer, 'issuer'),
    clients,
    resources,
    defaultAudience: optionalString(input.defaultAudience, 'defaultAudience'),
    tokenFormat: defaults.tokenFormat,
    accessTokenLifetimeSec: defaults.accessTokenLifetimeSec,
    signing: (signing as ResolvedConfig['signing'] | undefined) ?? {},
    assertionMaxLifetimeSec: positiveInt(input.assertionMaxLifetimeSec, 'assertionMaxLifetimeSec', 3600),
    clockSkewSec: nonNegativeInt(input.clockSkewSec, 'clockSkewSec', 30),
    rateLimit,
    maxBodyBytes: positiveInt(input.maxBodyBytes, 'maxBodyBytes', 65_536),
    realm: validateRealm(input.realm),
    jwksUriTimeoutMs: positiveInt(input.jwksUriTimeoutMs, 'jwksUriTimeoutMs', 5000),
    requestTimeoutMs,
    headersTimeoutMs,
    keepAliveTimeoutMs: positiveInt(input.keepAliveTimeoutMs, 'keepAliveTimeoutMs', 5000),
    store: input.store as ServerStore | undefined,
    onInternalError:
      (input.onInternalError as ((error: unknown) => void) | undefined) ?? defaultInternalErrorLogger,
  }
}
