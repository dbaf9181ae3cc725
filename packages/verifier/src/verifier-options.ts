/**
 * The options of `createVerifier`, their defaults, and the validation that refuses a bad
 * configuration when the verifier is created rather than on the first request.
 *
 * @module verifier-options
 */
import { ConfigurationError, type JwksCacheOptions } from '@oauth-m2m/core'
import { parseJwksDocument } from '@oauth-m2m/core/internal'
import type { JWK } from 'jose'
import type { Dispatcher } from 'undici'
import { checkAlgorithmsOption, type JwsAlgorithm } from './algorithms.js'
import type { ApplicationCheck } from './application-check.js'
import {
  DEFAULT_INTROSPECTION_FAILURE_COOLDOWN_MS,
  DEFAULT_INTROSPECTION_INACTIVE_TTL_MS,
  DEFAULT_INTROSPECTION_MAX_ENTRIES,
  DEFAULT_INTROSPECTION_MAX_TTL_MS,
  type IntrospectionOptions,
} from './introspection.js'
import type { TypPolicy } from './jwt-header.js'
import { DEFAULT_MAX_TOKEN_LENGTH } from './token-syntax.js'
import {
  DEFAULT_TOKEN_CACHE_MAX_ENTRIES,
  DEFAULT_TOKEN_CACHE_MAX_TTL_MS,
  type TokenCacheOptions,
} from './verified-token-cache.js'

/**
 * Options of `createVerifier`. Only `issuer` and `audience` are required (`audience` may be `null`
 * when `clientIds` is given).
 */
export interface VerifierOptions {
  /** The issuer identifier(s) accepted in `iss`, compared exactly. With several, `iss` picks the key set. */
  issuer: string | readonly string[]
  /**
   * This resource server's identifier(s); a token's `aud` must contain one of them. `null` skips
   * the `aud` check, for issuers whose access tokens carry no audience (Amazon Cognito), and is
   * accepted only together with {@link VerifierOptions.clientIds}: a verifier must never accept
   * tokens minted for someone else.
   */
  audience: string | readonly string[] | null
  /**
   * The clients allowed to call: `principal.clientId` must be one of them, else `invalid_token`.
   * Required when `audience` is `null`; with an audience, an allowlist on top of it. Default: any
   * client.
   */
  clientIds?: readonly string[]
  /**
   * The JWK Set URL. Default: `jwks_uri` from each issuer's metadata (RFC 8414 discovery). When
   * given, it serves every configured issuer and no discovery is needed for JWTs. Not with
   * {@link VerifierOptions.jwks}.
   */
  jwksUri?: string | URL
  /**
   * A static JWK Set: the issuer's public keys given here, so that nothing is ever fetched for
   * JWTs (no discovery, no JWKS). They serve every configured issuer. Each key must be a public
   * signing key, by the rules applied to a fetched JWKS (a `kty`, no private or symmetric key
   * material, `use` absent or `sig`), else `ConfigurationError`. Not with `jwksUri` or
   * `jwksCache`. (Until this release `jwks` held the JWKS cache options, now
   * {@link VerifierOptions.jwksCache}; the old shape is refused with a `ConfigurationError`.)
   */
  jwks?: { keys: readonly JWK[] }
  /**
   * JWS algorithms accepted. Default: the asymmetric algorithms the issuer's metadata advertises
   * (`access_token_signing_alg_values_supported`, `id_token_signing_alg_values_supported`) plus
   * RS256 (RFC 9068 §4); every supported asymmetric algorithm when none is advertised or
   * `jwksUri` is given. `none` and HMAC algorithms are refused with a `ConfigurationError`.
   */
  algorithms?: readonly JwsAlgorithm[]
  /** Allowed clock difference when judging `exp`, `nbf` and `iat`, in seconds. Default 5. */
  clockToleranceSec?: number
  /** How strictly the JWT `typ` header is checked; see {@link TypPolicy}. Default `strict` (`at+jwt` only). */
  typ?: TypPolicy
  /**
   * Longest token accepted, in characters. Longer ones are refused before any parsing, so an
   * oversized header costs nothing. Default 16 384 (16 KiB).
   */
  maxTokenLength?: number
  /** Claims that must be present besides `iss`, `aud`, `exp` and the client id, e.g. `['sub', 'jti']`. */
  requiredClaims?: readonly string[]
  /**
   * Where identity lives in the token, for issuers that do not follow RFC 9068 to the letter.
   * Applies to introspection answers too. See {@link ClaimNames}.
   */
  claims?: ClaimNames
  /**
   * The application's own claim rule, e.g. `token_use === 'access'`, a tenant id or an app role,
   * run after every built-in check on the token's claims and its {@link Principal}, for JWTs and
   * introspection answers alike. Throwing (or rejecting with) anything refuses the token as
   * `invalid_token` with the fixed description "the token was refused by the application's
   * check"; what was thrown is the error's `cause`, for your logs, and never reaches the caller. A
   * thrown `BearerError` (e.g. `new InsufficientScopeError(['admin'])`) keeps its own answer. It
   * runs once per token while the token is cached (verified-token cache, introspection cache), not
   * per request. Default: none.
   */
  check?: ApplicationCheck
  /** RFC 7662 introspection for opaque tokens (and JWTs, with `mode: 'all'`). Default: none. */
  introspection?: IntrospectionOptions
  /** Bounds of the cache of verified JWTs, or `false` to check every token in full. */
  tokenCache?: TokenCacheOptions | false
  /** undici dispatcher for discovery, JWKS and introspection requests. Default: undici's global one. */
  dispatcher?: Dispatcher
  /** Time limit of one discovery or introspection request, in milliseconds. Default 5 000. */
  timeoutMs?: number
  /**
   * After a failed discovery of an issuer's metadata (unreachable, timeout, an answer other than a
   * valid 200, 404 at both well-known URLs), how long verifications that need it fail at once with
   * `TemporarilyUnavailableError` instead of each asking the metadata endpoint again, in
   * milliseconds. Then one discovery is let through (calls arriving meanwhile wait for it) and its
   * success ends the cooldown. Applies to the JWT path (`jwks_uri`) and to introspection
   * (`introspection_endpoint`) alike. 0 disables: every verification that needs the metadata asks.
   * Default 2 000.
   */
  discoveryFailureCooldownMs?: number
  /**
   * Options of the JWKS cache of fetched key sets (`maxAgeMs`, `cooldownMs`, `maxStaleMs`,
   * `timeoutMs`; its `now` defaults to the verifier's {@link VerifierOptions.now}). Default: core's
   * defaults. Formerly named `jwks`.
   */
  jwksCache?: Omit<JwksCacheOptions, 'dispatcher'>
  /**
   * The clock, in epoch milliseconds, for everything the verifier judges by time: `exp`, `nbf`
   * and `iat`, how long verified tokens and introspection answers are reused, the failure
   * cooldowns of discovery and introspection, and the JWKS cache's freshness and refetch
   * cooldown. Tests move it instead of faking timers. HTTP time limits (`timeoutMs`) are real
   * timers and do not read it. Default `Date.now` (introspection answers then age by the
   * monotonic clock, as `lru-cache` measures them).
   */
  now?: () => number
}

/** Claim names of {@link VerifierOptions.claims}. */
export interface ClaimNames {
  /**
   * Claims the client id is read from, in order: the first one the token has wins (later ones are
   * not looked at). It must be a non-empty string, else the token is refused, never skipped; a
   * token with none of them is refused. Default `['client_id']` (RFC 9068 §2.2).
   */
  clientId?: readonly string[]
  /**
   * Claims whose values are granted scopes (`principal.scopes`), all merged in order, duplicates
   * across claims removed. Each is a space-separated string or an array of strings, except
   * `scope` itself, which RFC 8693 §4.2 defines as a string and must be one. A present claim of
   * another type refuses the token. Default `['scope']`.
   */
  scopes?: readonly string[]
}

/** Default of {@link ClaimNames.clientId}. */
export const DEFAULT_CLIENT_ID_CLAIMS: readonly string[] = Object.freeze(['client_id'])
/** Default of {@link ClaimNames.scopes}. */
export const DEFAULT_SCOPE_CLAIMS: readonly string[] = Object.freeze(['scope'])

/** Default of {@link VerifierOptions.clockToleranceSec}. */
export const DEFAULT_CLOCK_TOLERANCE_SEC = 5
/** Default of {@link VerifierOptions.timeoutMs}. */
export const DEFAULT_VERIFIER_TIMEOUT_MS = 5_000
/** Default of {@link VerifierOptions.discoveryFailureCooldownMs}. */
export const DEFAULT_DISCOVERY_FAILURE_COOLDOWN_MS = 2_000

/** Options with every default filled in and every value checked. */
export interface ResolvedVerifierOptions {
  issuers: readonly string[]
  /** `null`: the `aud` check is skipped (then `clientIds` is set). */
  audiences: readonly string[] | null
  clientIds: ReadonlySet<string> | undefined
  jwksUri: string | URL | undefined
  /** The keys of `jwks: { keys }`, validated and frozen. */
  staticKeys: readonly JWK[] | undefined
  algorithms: ReadonlySet<JwsAlgorithm> | undefined
  clockToleranceSec: number
  typ: TypPolicy
  maxTokenLength: number
  requiredClaims: readonly string[]
  clientIdClaims: readonly string[]
  scopeClaims: readonly string[]
  check: ApplicationCheck | undefined
  introspection:
    | (Required<Omit<IntrospectionOptions, 'endpoint'>> & { endpoint: string | undefined })
    | undefined
  tokenCache: Required<TokenCacheOptions> | false
  dispatcher: Dispatcher | undefined
  timeoutMs: number
  discoveryFailureCooldownMs: number
  jwksCache: JwksCacheOptions
  /** The clock given in the options; `undefined` for the wall clock. */
  now: (() => number) | undefined
}

function invalid(message: string): never {
  throw new ConfigurationError(`createVerifier: ${message}`)
}

function nonEmptyStrings(value: unknown, name: string): string[] {
  const list = typeof value === 'string' ? [value] : value
  if (!Array.isArray(list) || list.length === 0)
    invalid(`${name} must be a non-empty string or array of strings`)
  for (const item of list) {
    if (typeof item !== 'string' || item === '') invalid(`${name} must hold non-empty strings only`)
  }
  return [...(list as string[])]
}

const JWKS_CACHE_MEMBERS = ['timeoutMs', 'maxAgeMs', 'cooldownMs', 'maxStaleMs', 'now']

/**
 * The keys of `jwks: { keys }`, each held to the rules of a fetched JWKS (core's
 * parseJwksDocument). A key that a fetched set would skip is refused here instead: in the options
 * it is a mistake to fix (a private key pasted by accident), not an entry to tolerate.
 */
function staticKeysOption(value: unknown): readonly JWK[] | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    invalid('jwks must be a static key set { keys: [...] }')
  }
  const members = Object.keys(value)
  if (!members.includes('keys') || members.some((m) => JWKS_CACHE_MEMBERS.includes(m))) {
    invalid(
      'jwks takes a static key set { keys: [...] }; the JWKS cache options (maxAgeMs, cooldownMs, maxStaleMs, timeoutMs, now) are now named jwksCache',
    )
  }
  const unknown = members.find((m) => m !== 'keys')
  if (unknown !== undefined) invalid(`jwks has an unknown member "${unknown}"`)
  const keys = (value as { keys: unknown }).keys
  if (!Array.isArray(keys) || keys.length === 0) invalid('jwks.keys must be a non-empty array of JWKs')
  keys.forEach((key, index) => {
    if (parseJwksDocument({ keys: [key] })?.length !== 1) {
      invalid(
        `jwks.keys[${index}] is not a public signing key (it needs a "kty", no private or symmetric key material, and "use" absent or "sig")`,
      )
    }
  })
  return parseJwksDocument({ keys })!
}

function audienceOption(value: unknown): string[] | null {
  if (value === null) return null
  if (value === undefined) {
    invalid(
      'audience is required (or null together with clientIds): a verifier must never accept tokens minted for someone else',
    )
  }
  return nonEmptyStrings(value, 'audience')
}

function clientIdsOption(value: unknown): ReadonlySet<string> {
  if (!Array.isArray(value) || value.length === 0)
    invalid('clientIds must be a non-empty array of client ids')
  for (const item of value) {
    if (typeof item !== 'string' || item === '') invalid('clientIds must hold non-empty strings only')
  }
  return new Set(value as string[])
}

function claimNames(value: unknown, name: string): readonly string[] {
  if (!Array.isArray(value) || value.length === 0) invalid(`${name} must be a non-empty array of claim names`)
  for (const item of value) {
    if (typeof item !== 'string' || item === '') invalid(`${name} must hold non-empty claim names only`)
  }
  return Object.freeze([...(value as string[])])
}

function positive(value: number | undefined, name: string, fallback: number, integer = true): number {
  if (value === undefined) return fallback
  if (
    typeof value !== 'number' ||
    !(value > 0) ||
    !Number.isFinite(value) ||
    (integer && !Number.isInteger(value))
  ) {
    invalid(`${name} must be a positive ${integer ? 'integer' : 'number'}`)
  }
  return value
}

function nonNegativeMs(value: number | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    invalid(`${name} must be a non-negative number of milliseconds`)
  }
  return value
}

function url(value: string | URL | undefined, name: string): string | undefined {
  if (value === undefined) return undefined
  let parsed: URL
  try {
    parsed = new URL(value)
  } catch {
    invalid(`${name} is not an absolute URL`)
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') invalid(`${name} must be an http(s) URL`)
  return parsed.href
}

/**
 * Checks `options` and fills in the defaults.
 *
 * @throws {ConfigurationError} naming the first invalid option.
 */
export function resolveVerifierOptions(options: VerifierOptions): ResolvedVerifierOptions {
  if (typeof options !== 'object' || options === null) invalid('options are required')
  const issuers = nonEmptyStrings(options.issuer, 'issuer')
  const audiences = audienceOption(options.audience)
  const clientIds = options.clientIds === undefined ? undefined : clientIdsOption(options.clientIds)
  if (audiences === null && clientIds === undefined) {
    invalid(
      'audience null (no aud check) needs clientIds, the clients allowed to call: a verifier must never accept tokens minted for someone else',
    )
  }
  const tolerance = options.clockToleranceSec ?? DEFAULT_CLOCK_TOLERANCE_SEC
  if (typeof tolerance !== 'number' || !Number.isFinite(tolerance) || tolerance < 0) {
    invalid('clockToleranceSec must be a non-negative number')
  }
  const typ = options.typ ?? 'strict'
  if (typ !== 'strict' && typ !== 'lenient') invalid('typ must be "strict" or "lenient"')
  const requiredClaims = options.requiredClaims ?? []
  if (!Array.isArray(requiredClaims) || requiredClaims.some((c) => typeof c !== 'string' || c === '')) {
    invalid('requiredClaims must be an array of claim names')
  }
  const claims = options.claims ?? {}
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) {
    invalid('claims must be an object { clientId?, scopes? }')
  }
  const clientIdClaims =
    claims.clientId === undefined ? DEFAULT_CLIENT_ID_CLAIMS : claimNames(claims.clientId, 'claims.clientId')
  const scopeClaims =
    claims.scopes === undefined ? DEFAULT_SCOPE_CLAIMS : claimNames(claims.scopes, 'claims.scopes')
  const check = options.check
  if (check !== undefined && typeof check !== 'function') invalid('check must be a function')
  let algorithms: ReadonlySet<JwsAlgorithm> | undefined
  if (options.algorithms !== undefined) {
    try {
      algorithms = checkAlgorithmsOption(options.algorithms)
    } catch (err) {
      invalid((err as Error).message)
    }
  }

  const now = options.now
  if (now !== undefined && typeof now !== 'function')
    invalid('now must be a function returning epoch milliseconds')

  const dispatcher = options.dispatcher
  const intro = options.introspection
  let introspection: ResolvedVerifierOptions['introspection']
  if (intro !== undefined) {
    if (typeof intro.clientId !== 'string' || intro.clientId === '')
      invalid('introspection.clientId is required')
    if (typeof intro.auth?.apply !== 'function')
      invalid('introspection.auth must be a client authentication strategy')
    const mode = intro.mode ?? 'opaque'
    if (mode !== 'opaque' && mode !== 'all') invalid('introspection.mode must be "opaque" or "all"')
    introspection = {
      endpoint: url(intro.endpoint, 'introspection.endpoint'),
      clientId: intro.clientId,
      auth: intro.auth,
      mode,
      maxTtlMs: positive(intro.maxTtlMs, 'introspection.maxTtlMs', DEFAULT_INTROSPECTION_MAX_TTL_MS),
      inactiveTtlMs: positive(
        intro.inactiveTtlMs,
        'introspection.inactiveTtlMs',
        DEFAULT_INTROSPECTION_INACTIVE_TTL_MS,
      ),
      maxEntries: positive(intro.maxEntries, 'introspection.maxEntries', DEFAULT_INTROSPECTION_MAX_ENTRIES),
      failureCooldownMs: nonNegativeMs(
        intro.failureCooldownMs,
        'introspection.failureCooldownMs',
        DEFAULT_INTROSPECTION_FAILURE_COOLDOWN_MS,
      ),
    }
  }

  const cache = options.tokenCache
  const tokenCache: ResolvedVerifierOptions['tokenCache'] =
    cache === false
      ? false
      : {
          maxEntries: positive(cache?.maxEntries, 'tokenCache.maxEntries', DEFAULT_TOKEN_CACHE_MAX_ENTRIES),
          maxTtlMs: positive(cache?.maxTtlMs, 'tokenCache.maxTtlMs', DEFAULT_TOKEN_CACHE_MAX_TTL_MS),
        }

  const staticKeys = staticKeysOption(options.jwks)
  if (staticKeys !== undefined && options.jwksUri !== undefined) {
    invalid('jwks (a static key set) and jwksUri are exclusive: give one')
  }
  if (staticKeys !== undefined && options.jwksCache !== undefined) {
    invalid('jwksCache configures fetched key sets; with a static jwks nothing is fetched')
  }
  const jwksCache = options.jwksCache ?? {}
  if (typeof jwksCache !== 'object' || jwksCache === null) invalid('jwksCache must be an object')
  for (const name of ['timeoutMs', 'maxAgeMs', 'cooldownMs', 'maxStaleMs'] as const) {
    const value = jwksCache[name]
    if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value) || value < 0)) {
      invalid(`jwksCache.${name} must be a non-negative number of milliseconds`)
    }
  }

  return {
    issuers,
    audiences,
    clientIds,
    jwksUri: url(options.jwksUri, 'jwksUri'),
    staticKeys,
    algorithms,
    clockToleranceSec: tolerance,
    typ,
    maxTokenLength: positive(options.maxTokenLength, 'maxTokenLength', DEFAULT_MAX_TOKEN_LENGTH),
    requiredClaims: [...requiredClaims],
    clientIdClaims,
    scopeClaims,
    check,
    introspection,
    tokenCache,
    dispatcher,
    timeoutMs: positive(options.timeoutMs, 'timeoutMs', DEFAULT_VERIFIER_TIMEOUT_MS),
    discoveryFailureCooldownMs: nonNegativeMs(
      options.discoveryFailureCooldownMs,
      'discoveryFailureCooldownMs',
      DEFAULT_DISCOVERY_FAILURE_COOLDOWN_MS,
    ),
    jwksCache: {
      ...jwksCache,
      ...(dispatcher ? { dispatcher } : {}),
      ...(jwksCache.now === undefined && now !== undefined ? { now } : {}),
    },
    now,
  }
}
