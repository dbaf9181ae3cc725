/**
 * Validates the server's options (from code or the JSON config file) and fills in the defaults,
 * refusing a bad configuration at start with a message naming the offending field
 * (`clients[1].token_endpoint_auth_method`). Client metadata follows `client-metadata`'s rules.
 *
 * @module resolve-config
 */
import { BlockList, isIP } from 'node:net'
import { isAbsoluteUriWithoutFragment, isErrorDescriptionText } from '@oauth-m2m/core/internal'
import { type ClientMetadata, checkClient } from './client-metadata.js'
import type {
  AuthorizationServerConfig,
  BeforeSignHook,
  EndpointsConfig,
  RateLimitConfig,
  ResourceConfig,
  TrustedProxyConfig,
} from './config.js'
import { didYouMean } from './did-you-mean.js'
import { checkDpopBoundClient, type DpopSettings, resolveDpop } from './dpop-settings.js'
import { applyFapi2, resolveProfile, type ServerProfile } from './fapi2-profile.js'
import {
  fail,
  isObject,
  nonNegativeInt,
  optionalString,
  positiveInt,
  validating,
} from './field-validation.js'
import { type ConfiguredEndpoints, endpointLocations, sharedEndpointPath } from './metadata.js'
import { checkMtlsClient, type MtlsSettings, resolveMtls } from './mtls-settings.js'
import { type RegistrationSettings, resolveRegistration } from './registration-config.js'
import type { RequestLogHook } from './request-log.js'
import type { ResourceSettings, TokenFormat } from './resource.js'
import { writeInternalErrorToStderr } from './server-core.js'
import type { ServerStore } from './server-store.js'
import { resolveSigning, type SigningSettings } from './signing/signing-config.js'
import type { TrustedProxies } from './source-address.js'

/**
 * A validated configuration with every default filled in: each member is the option of the same
 * name in {@link AuthorizationServerConfig} (`trustedProxy` with its addresses as a `BlockList`).
 */
export interface ResolvedConfig {
  issuer: string | undefined
  clients: ClientMetadata[]
  resources: ResourceSettings[]
  defaultAudience: string | undefined
  tokenFormat: TokenFormat
  accessTokenLifetimeSec: number
  signing: SigningSettings
  accessTokenTyp: string | null
  beforeSign: BeforeSignHook | undefined
  endpoints: ConfiguredEndpoints
  dpop: DpopSettings
  assertionMaxLifetimeSec: number
  strictAssertionAudience: boolean
  /** The `profile` option; its rules are already applied to the other members. */
  profile: ServerProfile | undefined
  clockToleranceSec: number
  rateLimit: Required<RateLimitConfig> | false
  trustedProxy: TrustedProxies | undefined
  mtls: MtlsSettings | undefined
  registration: RegistrationSettings | undefined
  maxBodyBytes: number
  realm: string
  jwksUriTimeoutMs: number
  requestTimeoutMs: number
  headersTimeoutMs: number
  keepAliveTimeoutMs: number
  store: ServerStore | undefined
  onInternalError: (error: unknown) => void
  onRequest: RequestLogHook | undefined
  now: () => number
}

/** Options renamed since an earlier version: the old name is refused with a message naming the new one. */
const RENAMED_OPTIONS: ReadonlyMap<string, keyof AuthorizationServerConfig> = new Map([
  ['clockSkewSec', 'clockToleranceSec'],
])

const TOP_LEVEL_KEYS: ReadonlySet<string> = new Set<keyof AuthorizationServerConfig | '$schema'>([
  'issuer',
  'clients',
  'resources',
  'defaultAudience',
  'tokenFormat',
  'accessTokenLifetimeSec',
  'signing',
  'accessTokenTyp',
  'beforeSign',
  'endpoints',
  'dpop',
  'assertionMaxLifetimeSec',
  'strictAssertionAudience',
  'profile',
  'clockToleranceSec',
  'rateLimit',
  'trustedProxy',
  'mtls',
  'registration',
  'maxBodyBytes',
  'realm',
  'jwksUriTimeoutMs',
  'requestTimeoutMs',
  'headersTimeoutMs',
  'keepAliveTimeoutMs',
  'store',
  'onInternalError',
  'onRequest',
  'now',
  '$schema',
])

const RATE_LIMIT_KEYS: ReadonlySet<string> = new Set<keyof RateLimitConfig>([
  'maxFailures',
  'maxFailuresPerClient',
  'maxTrackedEntries',
  'windowMs',
])

const TRUSTED_PROXY_KEYS: ReadonlySet<string> = new Set<keyof TrustedProxyConfig>([
  'addresses',
  'forwardedFor',
  'certificateHeader',
])

/** An HTTP field name (RFC 9110 §5.1: a token), lower case as node:http keys headers. */
const FIELD_NAME = /^[!#$%&'*+.^_`|~0-9a-z-]+$/

/** The proxy-trust setting as a BlockList; node:net parses every address and prefix. */
function validateTrustedProxy(value: unknown, field: string): TrustedProxies | undefined {
  if (value === undefined) return undefined
  if (!isObject(value)) fail(field, 'must be an object')
  for (const key of Object.keys(value)) {
    if (!TRUSTED_PROXY_KEYS.has(key)) {
      fail(`${field}.${key}`, `is not a known option${didYouMean(key, TRUSTED_PROXY_KEYS)}`)
    }
  }
  const list = value.addresses
  if (!Array.isArray(list) || list.length === 0) fail(`${field}.addresses`, 'must be a non-empty array')
  const addresses = new BlockList()
  list.forEach((entry, i) => {
    const at = `${field}.addresses[${i}]`
    if (typeof entry !== 'string') fail(at, 'must be a string')
    const [address = '', prefix, extra] = entry.split('/')
    const version = isIP(address)
    if (version === 0 || extra !== undefined) fail(at, 'must be an IP address or a CIDR block')
    const family = version === 4 ? 'ipv4' : 'ipv6'
    if (prefix === undefined) {
      addresses.addAddress(address, family)
      return
    }
    const bits = Number(prefix)
    if (!/^\d{1,3}$/.test(prefix) || bits > (version === 4 ? 32 : 128)) {
      fail(at, `has an invalid prefix length (0-${version === 4 ? 32 : 128})`)
    }
    addresses.addSubnet(address, bits, family)
  })
  if (value.forwardedFor !== undefined && typeof value.forwardedFor !== 'boolean') {
    fail(`${field}.forwardedFor`, 'must be a boolean')
  }
  const header = value.certificateHeader
  if (header !== undefined && (typeof header !== 'string' || !FIELD_NAME.test(header.toLowerCase()))) {
    fail(`${field}.certificateHeader`, 'must be an HTTP header name such as "client-cert"')
  }
  return {
    addresses,
    forwardedFor: value.forwardedFor ?? true,
    certificateHeader: typeof header === 'string' ? header.toLowerCase() : undefined,
  }
}

const ENDPOINT_KEYS: ReadonlySet<string> = new Set<keyof EndpointsConfig>([
  'token',
  'jwks',
  'introspection',
  'revocation',
  'metadata',
])

/** An endpoint URL: absolute http(s), no query (the router ignores it) and no fragment. */
function endpointUrl(value: unknown, field: string): string | undefined {
  const url = optionalString(value, field)
  if (url === undefined) return undefined
  if (!URL.canParse(url)) fail(field, 'must be an absolute URL')
  const parsed = new URL(url)
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') fail(field, 'must be an http or https URL')
  if (url.includes('?') || url.includes('#')) {
    fail(field, 'must not have a query or fragment: requests are routed by path only')
  }
  return url
}

function validateEndpoints(
  value: unknown,
  issuer: string | undefined,
  registration: boolean,
): ConfiguredEndpoints {
  if (value === undefined) return {}
  if (!isObject(value)) fail('endpoints', 'must be an object')
  for (const key of Object.keys(value)) {
    if (!ENDPOINT_KEYS.has(key))
      fail(`endpoints.${key}`, `is not a known option${didYouMean(key, ENDPOINT_KEYS)}`)
  }
  let metadata: string[] | undefined
  if (value.metadata !== undefined) {
    if (!Array.isArray(value.metadata)) fail('endpoints.metadata', 'must be an array of URLs')
    metadata = value.metadata.map((url, i) => {
      if (url === undefined) fail(`endpoints.metadata[${i}]`, 'must be a non-empty string')
      return endpointUrl(url, `endpoints.metadata[${i}]`) as string
    })
  }
  const endpoints: ConfiguredEndpoints = {
    token: endpointUrl(value.token, 'endpoints.token'),
    jwks: endpointUrl(value.jwks, 'endpoints.jwks'),
    introspection: endpointUrl(value.introspection, 'endpoints.introspection'),
    revocation: endpointUrl(value.revocation, 'endpoints.revocation'),
    metadata,
  }
  // Without an issuer the defaults are not known yet: check what is configured, under a stand-in.
  const shared = sharedEndpointPath(
    endpointLocations(issuer ?? 'http://issuer.invalid', endpoints, registration),
  )
  if (shared !== undefined) {
    const [path, first, second] = shared
    fail('endpoints', `gives the ${first} and ${second} endpoints one path (${path}): each needs its own`)
  }
  return endpoints
}

function validateAccessTokenTyp(value: unknown): string | null {
  if (value === undefined) return 'at+jwt'
  if (value === null) return null
  // A media type (RFC 7515 §4.1.9): visible ASCII without spaces.
  if (typeof value !== 'string' || !/^[\x21-\x7e]+$/.test(value)) {
    fail('accessTokenTyp', 'must be a media type such as "at+jwt" or "JWT", or null to leave typ out')
  }
  return value
}

function tokenFormat(value: unknown, field: string): TokenFormat | undefined {
  if (value === undefined) return undefined
  if (value !== 'jwt' && value !== 'opaque') fail(field, 'must be "jwt" or "opaque"')
  return value
}

function validateIssuer(value: unknown, field: string): string | undefined {
  const issuer = optionalString(value, field)
  if (issuer === undefined) return undefined
  if (!URL.canParse(issuer)) fail(field, 'must be an absolute URL')
  const url = new URL(issuer)
  // http: is accepted on any host, unlike core's isSecureTransport: this reference server often
  // runs behind a TLS-terminating proxy or in docker-compose under a service name, where it cannot
  // tell. The transport rule is applied where the token travels: clients and verifiers refuse http
  // to a non-loopback host unless their allowInsecureHttp is set.
  if (url.protocol !== 'https:' && url.protocol !== 'http:') fail(field, 'must be an http or https URL')
  if (url.search !== '' || url.hash !== '' || issuer.includes('?') || issuer.includes('#')) {
    fail(field, 'must not have a query or fragment (RFC 8414 section 2)')
  }
  return issuer
}

const RESOURCE_KEYS: readonly string[] = [
  'resource',
  'audience',
  'tokenFormat',
  'accessTokenLifetimeSec',
] satisfies (keyof ResourceConfig)[]

function validateResource(value: unknown, field: string, defaults: ResolvedDefaults): ResourceSettings {
  if (!isObject(value)) fail(field, 'must be an object')
  for (const key of Object.keys(value)) {
    if (!RESOURCE_KEYS.includes(key)) {
      fail(`${field}.${key}`, `is not a known option${didYouMean(key, RESOURCE_KEYS)}`)
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
  // The realm goes into a quoted-string of WWW-Authenticate, so it must need no escaping there.
  if (!isErrorDescriptionText(realm)) fail('realm', 'must be printable ASCII without quotes or backslashes')
  return realm
}

interface ResolvedDefaults {
  tokenFormat: TokenFormat
  accessTokenLifetimeSec: number
}

/**
 * Validates a configuration object (from code or a JSON file) and fills in the defaults.
 *
 * @throws {ConfigurationError} naming the first invalid field.
 */
export function resolveConfig(input: unknown): ResolvedConfig {
  return validating('server configuration', () => withProfile(input, resolveValidConfig(input)))
}

/** The configuration under its `profile`: checked against the profile's rules, and adjusted. */
function withProfile(input: unknown, config: Omit<ResolvedConfig, 'profile'>): ResolvedConfig {
  const profile = resolveProfile((input as Record<string, unknown>).profile)
  if (profile === undefined) return { ...config, profile }
  const adjusted = applyFapi2({
    input: input as Record<string, unknown>,
    clients: config.clients,
    dpopMode: config.dpop.mode,
    dpopAlgorithms: config.dpop.algorithms,
    dpopIatWindowSec: config.dpop.iatWindowSec,
    clockToleranceSec: config.clockToleranceSec,
  })
  const dpop = {
    ...config.dpop,
    mode: adjusted.dpopMode as DpopSettings['mode'],
    algorithms: adjusted.dpopAlgorithms as DpopSettings['algorithms'],
  }
  return { ...config, profile, strictAssertionAudience: adjusted.strictAssertionAudience, dpop }
}

function resolveValidConfig(input: unknown): Omit<ResolvedConfig, 'profile'> {
  if (!isObject(input)) fail('configuration', 'must be an object')
  for (const key of Object.keys(input)) {
    const renamed = RENAMED_OPTIONS.get(key)
    if (renamed !== undefined) fail(key, `is now named ${renamed}`)
    if (!TOP_LEVEL_KEYS.has(key)) fail(key, `is not a known option${didYouMean(key, TOP_LEVEL_KEYS)}`)
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
  const clients = input.clients.map((c, i) => checkClient(c, `clients[${i}]`, resourceUris, seenIds))
  const dpop = resolveDpop(input.dpop)
  const mtls = resolveMtls(input.mtls)
  clients.forEach((client, i) => {
    checkDpopBoundClient(client, dpop.mode, `clients[${i}]`)
    checkMtlsClient(client, mtls, `clients[${i}]`)
  })

  const signing = resolveSigning(input.signing)
  let rateLimit: Required<RateLimitConfig> | false = {
    maxFailures: 10,
    maxFailuresPerClient: 1000,
    windowMs: 60_000,
    maxTrackedEntries: 10_000,
  }
  if (input.rateLimit === false) rateLimit = false
  else if (input.rateLimit !== undefined) {
    if (!isObject(input.rateLimit)) fail('rateLimit', 'must be an object or false')
    for (const key of Object.keys(input.rateLimit)) {
      if (!RATE_LIMIT_KEYS.has(key)) {
        fail(`rateLimit.${key}`, `is not a known option${didYouMean(key, RATE_LIMIT_KEYS)}`)
      }
    }
    rateLimit = {
      maxFailures: positiveInt(input.rateLimit.maxFailures, 'rateLimit.maxFailures', 10),
      maxFailuresPerClient: positiveInt(
        input.rateLimit.maxFailuresPerClient,
        'rateLimit.maxFailuresPerClient',
        1000,
      ),
      windowMs: positiveInt(input.rateLimit.windowMs, 'rateLimit.windowMs', 60_000),
      maxTrackedEntries: positiveInt(
        input.rateLimit.maxTrackedEntries,
        'rateLimit.maxTrackedEntries',
        10_000,
      ),
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
  if (input.onRequest !== undefined && typeof input.onRequest !== 'function') {
    fail('onRequest', 'must be a function taking a request log entry')
  }
  if (input.now !== undefined && typeof input.now !== 'function') {
    fail('now', 'must be a function returning epoch milliseconds')
  }
  if (input.beforeSign !== undefined && typeof input.beforeSign !== 'function') {
    fail('beforeSign', 'must be a function returning the claims to merge (or undefined)')
  }
  const strictAssertionAudience = input.strictAssertionAudience ?? false
  if (typeof strictAssertionAudience !== 'boolean') fail('strictAssertionAudience', 'must be a boolean')
  const issuer = validateIssuer(input.issuer, 'issuer')
  return {
    issuer,
    clients,
    resources,
    defaultAudience: optionalString(input.defaultAudience, 'defaultAudience'),
    tokenFormat: defaults.tokenFormat,
    accessTokenLifetimeSec: defaults.accessTokenLifetimeSec,
    signing,
    accessTokenTyp: validateAccessTokenTyp(input.accessTokenTyp),
    beforeSign: input.beforeSign as BeforeSignHook | undefined,
    endpoints: validateEndpoints(input.endpoints, issuer, input.registration !== undefined),
    dpop,
    assertionMaxLifetimeSec: positiveInt(input.assertionMaxLifetimeSec, 'assertionMaxLifetimeSec', 3600),
    strictAssertionAudience,
    clockToleranceSec: nonNegativeInt(input.clockToleranceSec, 'clockToleranceSec', 30),
    rateLimit,
    trustedProxy: validateTrustedProxy(input.trustedProxy, 'trustedProxy'),
    mtls,
    registration: resolveRegistration(input.registration, clients),
    maxBodyBytes: positiveInt(input.maxBodyBytes, 'maxBodyBytes', 65_536),
    realm: validateRealm(input.realm),
    jwksUriTimeoutMs: positiveInt(input.jwksUriTimeoutMs, 'jwksUriTimeoutMs', 5000),
    requestTimeoutMs,
    headersTimeoutMs,
    keepAliveTimeoutMs: positiveInt(input.keepAliveTimeoutMs, 'keepAliveTimeoutMs', 5000),
    store: input.store as ServerStore | undefined,
    onInternalError:
      (input.onInternalError as ((error: unknown) => void) | undefined) ?? writeInternalErrorToStderr,
    onRequest: input.onRequest as RequestLogHook | undefined,
    now: (input.now as (() => number) | undefined) ?? Date.now,
  }
}
