/**
 * The options of `createVerifier`, their defaults, and the validation that refuses a bad
 * configuration when the verifier is created rather than on the first request. This module
 * composes: each group of options is checked where its concern lives (`claim-options`,
 * `key-options`, `introspection-options`), with the shared checks in `option-checks`.
 *
 * @module verifier-options
 */
import type { JwksCacheOptions } from '@oauth-m2m/core'
import type { JWK } from 'jose'
import type { Dispatcher } from 'undici'
import type { JwsAlgorithm } from './algorithms.js'
import type { ApplicationCheck } from './application-check.js'
import { type ClaimNames, resolveAudienceOptions, resolveClaimRules } from './claim-options.js'
import { type DpopMode, type DpopOptions, type DpopSettings, resolveDpopOptions } from './dpop-options.js'
import {
  type IntrospectionOptions,
  type ResolvedIntrospectionOptions,
  resolveIntrospectionOptions,
} from './introspection-options.js'
import type { TypPolicy } from './jwt-header.js'
import { resolveAlgorithms, resolveKeySource } from './key-options.js'
import { invalid, nonEmptyStrings, nonNegativeMs, positive } from './option-checks.js'
import { DEFAULT_MAX_TOKEN_LENGTH } from './token-syntax.js'
import {
  DEFAULT_TOKEN_CACHE_MAX_ENTRIES,
  DEFAULT_TOKEN_CACHE_MAX_TTL_MS,
  type TokenCacheOptions,
} from './verified-token-cache.js'

export { type ClaimNames, DEFAULT_CLIENT_ID_CLAIMS, DEFAULT_SCOPE_CLAIMS } from './claim-options.js'

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
  /**
   * DPoP (RFC 9449) sender-constrained tokens: a {@link DpopMode} (`'allowed'`, `'required'`,
   * `'disabled'`) or {@link DpopOptions} (mode, proof algorithms, `iat` window, replay store,
   * resource-server nonces). Default `'allowed'`: a token bound with `cnf.jkt` (in the JWT or the
   * introspection answer) passes only with `verify(token, { dpop: { proof, method, url } })` and
   * a valid proof by that key; unbound tokens pass without `dpop`, as bearer tokens.
   */
  dpop?: DpopMode | DpopOptions
  /** Bounds of the cache of verified JWTs, or `false` to check every token in full. */
  tokenCache?: TokenCacheOptions | false
  /**
   * Allow `http:` URLs for `jwksUri` and `introspection.endpoint` on hosts other than loopback
   * (`localhost`, 127.0.0.0/8, `[::1]`), e.g. service names on a docker-compose network. Default
   * `false`: keys are fetched and tokens and credentials sent only over TLS. The option covers
   * discovery too: an `http:` issuer on such a host, and the `http:` `jwks_uri` and
   * `introspection_endpoint` its metadata names, are then accepted.
   */
  allowInsecureHttp?: boolean
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
  introspection: ResolvedIntrospectionOptions | undefined
  dpop: DpopSettings
  tokenCache: Required<TokenCacheOptions> | false
  dispatcher: Dispatcher | undefined
  timeoutMs: number
  discoveryFailureCooldownMs: number
  jwksCache: JwksCacheOptions
  /** The clock given in the options; `undefined` for the wall clock. */
  now: (() => number) | undefined
  allowInsecureHttp: boolean
}

/**
 * Checks `options` and fills in the defaults.
 *
 * @throws {ConfigurationError} naming the first invalid option.
 */
export function resolveVerifierOptions(options: VerifierOptions): ResolvedVerifierOptions {
  if (typeof options !== 'object' || options === null) invalid('options are required')
  const issuers = nonEmptyStrings(options.issuer, 'issuer')
  const { audiences, clientIds } = resolveAudienceOptions(options)
  const tolerance = options.clockToleranceSec ?? DEFAULT_CLOCK_TOLERANCE_SEC
  if (typeof tolerance !== 'number' || !Number.isFinite(tolerance) || tolerance < 0) {
    invalid('clockToleranceSec must be a non-negative number')
  }
  const typ = options.typ ?? 'strict'
  if (typ !== 'strict' && typ !== 'lenient') invalid('typ must be "strict" or "lenient"')
  const claimRules = resolveClaimRules(options)
  const algorithms = resolveAlgorithms(options.algorithms)

  const now = options.now
  if (now !== undefined && typeof now !== 'function')
    invalid('now must be a function returning epoch milliseconds')

  const allowInsecureHttp = options.allowInsecureHttp ?? false
  if (typeof allowInsecureHttp !== 'boolean') invalid('allowInsecureHttp must be a boolean')

  const dispatcher = options.dispatcher
  const introspection = resolveIntrospectionOptions(options.introspection, allowInsecureHttp)

  const cache = options.tokenCache
  const tokenCache: ResolvedVerifierOptions['tokenCache'] =
    cache === false
      ? false
      : {
          maxEntries: positive(cache?.maxEntries, 'tokenCache.maxEntries', DEFAULT_TOKEN_CACHE_MAX_ENTRIES),
          maxTtlMs: positive(cache?.maxTtlMs, 'tokenCache.maxTtlMs', DEFAULT_TOKEN_CACHE_MAX_TTL_MS),
        }

  const keySource = resolveKeySource(options, { dispatcher, now, allowInsecureHttp })
  // Read on each call, not bound once, so that a test's fake timers are seen.
  const dpop = resolveDpopOptions(options.dpop, now ?? (() => Date.now()))

  return {
    issuers,
    audiences,
    clientIds,
    jwksUri: keySource.jwksUri,
    staticKeys: keySource.staticKeys,
    algorithms,
    clockToleranceSec: tolerance,
    typ,
    maxTokenLength: positive(options.maxTokenLength, 'maxTokenLength', DEFAULT_MAX_TOKEN_LENGTH),
    ...claimRules,
    introspection,
    dpop,
    tokenCache,
    dispatcher,
    timeoutMs: positive(options.timeoutMs, 'timeoutMs', DEFAULT_VERIFIER_TIMEOUT_MS),
    discoveryFailureCooldownMs: nonNegativeMs(
      options.discoveryFailureCooldownMs,
      'discoveryFailureCooldownMs',
      DEFAULT_DISCOVERY_FAILURE_COOLDOWN_MS,
    ),
    jwksCache: keySource.jwksCache,
    now,
    allowInsecureHttp,
  }
}
