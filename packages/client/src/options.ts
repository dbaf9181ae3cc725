/**
 * The options of `createTokenClient`, their documented defaults, and their validation: bad
 * options throw a {@link ConfigurationError} when the client is created, never later.
 *
 * @module options
 */
import { type ClientAuthStrategy, ConfigurationError } from '@oauth-m2m/core'
import { isAbsoluteUriWithoutFragment, isSecureTransport } from '@oauth-m2m/core/internal'
import type { Dispatcher } from 'undici'
import { normalizeOrigins } from './allowed-origins.js'
import {
  DPOP_PROOF_ALGS,
  type DpopKeyPair,
  type DpopProofAlg,
  generateDpopKey,
  importDpopKey,
} from './dpop/dpop-key.js'
import { DpopProver } from './dpop/dpop-prover.js'
import { DEFAULT_RETRY_POLICY, type RetryOptions, type RetryPolicy } from './retry.js'
import type { ReuseTokenSourceSettings } from './reuse-token-source.js'
import { DEFAULT_ATTEMPT_TIMEOUT_MS, type ServerTokenSourceSettings } from './server-token-source.js'
import { DEFAULT_STORE_LOCK_WAIT_MS, DEFAULT_STORE_TIMEOUT_MS } from './token-cache.js'
import { DEFAULT_LIFECYCLE_TIMINGS, type LifecycleTimings } from './token-lifecycle.js'
import {
  normalizeAudiences,
  normalizeExtraParams,
  normalizeResources,
  normalizeScopes,
} from './token-parameters.js'
import { DEFAULT_MAX_RESPONSE_BYTES } from './token-request.js'
import { DEFAULT_MAX_CACHE_ENTRIES, type TokenStore } from './token-store.js'

/**
 * The `dpop` option of `createTokenClient`: sender-constrained tokens (RFC 9449). `dpop: true` is
 * `dpop: {}`.
 */
export interface TokenClientDpopOptions {
  /**
   * The client's own key pair: a WebCrypto `CryptoKeyPair`, or `{ privateKey, publicKey }`
   * `node:crypto` `KeyObject`s (not `rsa-pss` KeyObjects: use an `rsa` one with `alg: 'PS256'`), so
   * that a process keeps its key, and the tokens bound to it, across restarts. Default: a key pair
   * generated when the client is created, held by the client only (never returned, exported or
   * logged) and gone with the process.
   */
  key?: DpopKeyPair
  /**
   * Proof algorithm: `ES256`, `EdDSA` (Ed25519), `PS256` or `RS256`. Default: what `key` was made
   * for (a plain RSA `KeyObject`: `RS256`), or `ES256` for a generated key. Generating an RSA key
   * costs 0.1–0.3 s of CPU when the client is created.
   */
  alg?: DpopProofAlg
  /**
   * Accept a Bearer token when the server does not bind tokens (answers `token_type: Bearer`); it
   * is then sent as `Authorization: Bearer`, without a proof. Default `false`: such an answer fails
   * with `DpopNotBoundError` (`ERR_DPOP_NOT_BOUND`).
   */
  allowBearerFallback?: boolean
}

/** Options of `createTokenClient`. */
export interface TokenClientOptions {
  /**
   * Issuer identifier of the authorization server; its token endpoint is found with RFC 8414
   * discovery on first use. Give this or `tokenEndpoint` (with both, `tokenEndpoint` is used and
   * `issuer` is only passed to the authentication strategy).
   */
  issuer?: string
  /** URL of the token endpoint, when discovery is not wanted. */
  tokenEndpoint?: string
  /** The client's `client_id`. */
  clientId: string
  /**
   * How the client authenticates: `clientSecretBasic(…)`, `privateKeyJwt(…)`, `tlsClientAuth(…)`, …
   * from `@oauth-m2m/core`. A mutual-TLS strategy (`tlsClientAuth`, `selfSignedTlsClientAuth`)
   * presents its certificate to the authorization server (discovery and token requests, at the
   * metadata's `mtls_endpoint_aliases.token_endpoint` when there is one) and, from `fetch` and
   * `interceptor`, to the allowed origins only; it needs an `https:` token endpoint.
   */
  auth: ClientAuthStrategy
  /** Scopes requested when a call names none (string with spaces, or a list). Default: none. */
  scope?: string | readonly string[]
  /**
   * RFC 8707 resource indicators requested when a call names none. Their origins are also where
   * `fetch` and `interceptor` send the token, unless `origins` is given. Default: none.
   */
  resource?: string | readonly string[]
  /**
   * Audiences requested when a call names none, each sent as an `audience` parameter: the API
   * identifier of Auth0 and of other servers that name the target API this way. Any non-empty
   * string; one that is an `https:` URL (or loopback `http:`) also adds its origin to those
   * `fetch` and `interceptor` send the token to, unless `origins` is given. Default: none.
   */
  audience?: string | readonly string[]
  /**
   * Extra token-request parameters sent with every request (e.g. `organization`). Names the
   * client sets itself (`grant_type`, `scope`, `resource`, `audience`, `client_id`,
   * `client_secret`, `client_assertion`, `client_assertion_type`) are refused. Default: none.
   */
  extraParams?: Readonly<Record<string, string>>
  /**
   * Origins (`https://api.example.com`) that `fetch` and `interceptor` attach the token to.
   * Default: the origins of `resource` and of the URL values of `audience`. With none, `fetch` and `interceptor` throw a
   * `ConfigurationError`: the client never guesses where a token may go.
   */
  origins?: readonly string[]
  /**
   * undici dispatcher for token, discovery and `fetch` requests. Default: undici's global
   * dispatcher; with a mutual-TLS `auth`, an undici `Agent` presenting its certificate for the
   * authorization server and the allowed origins. A dispatcher given here replaces that `Agent`
   * too: it must then present the certificate itself (e.g. `new Agent({ connect:
   * auth.tls.connectOptions() })`, or a `ProxyAgent` with `requestTls`), to every origin it reaches.
   */
  dispatcher?: Dispatcher
  /** Time limit of one token request attempt, in ms. Default 10 000. */
  timeoutMs?: number
  /** Largest token response accepted, in bytes. Default 262 144 (256 KiB). */
  maxResponseBytes?: number
  /** Retry policy, or `false` for a single attempt. Defaults: see {@link RetryOptions}. */
  retry?: RetryOptions | false
  /**
   * Longest `Retry-After` (on a 429 or 503, in s) the client honours; a longer one counts as this
   * long. It bounds both waits: the pause between two attempts of one request (which must also
   * fit in `retry.deadlineMs`, else retrying ends at once with the server's error), and the time
   * a key is then held back, during which calls serve the still valid token or fail fast with
   * `RetryLaterError`. One mistaken `Retry-After` thus silences the client for minutes, not days;
   * `invalidate()` ends a hold-back at once. 0 ignores `Retry-After`. Default 300 (5 minutes).
   */
  maxRetryAfterSec?: number
  /**
   * Share of the token lifetime after which it is refreshed in the background. Default 0.8.
   * `refreshAt` = min(`expiresAt − refreshMargin`, `issuedAt + refreshRatio × lifetime`) − jitter.
   */
  refreshRatio?: number
  /** Refresh at least this long before expiry, in s; capped at half the lifetime. Default 60. */
  refreshMarginSec?: number
  /** Random jitter subtracted from `refreshAt`, at most this share of the lifetime. Default 0.1. */
  refreshJitterRatio?: number
  /**
   * A token is treated as expired this long before its `expiresAt`, in s: a margin for clock
   * differences and time on the wire, so that a token is never sent in its last seconds; capped at
   * half the lifetime. Default 30. (Formerly `clockSkewSec`, which now throws a `ConfigurationError`.)
   */
  expiryMarginSec?: number
  /** Lifetime assumed when the server sends no `expires_in` and the token is not a JWT, in s. Default 300. */
  defaultExpiresInSec?: number
  /**
   * Longest time a token is kept and served, in s, whatever `expires_in`, the JWT `exp` or a shared
   * store say: a token is treated as expiring at most this long after it was requested, so an
   * absurd lifetime (`expires_in: 1e12`) cannot pin one token for millennia. Default 86 400 (24 h).
   */
  maxLifetimeSec?: number
  /**
   * Shared token store. Tokens are always also kept in memory, so a cached token costs no store
   * round trip. Default: memory only.
   */
  store?: TokenStore
  /** Longest wait for the store, in ms, before it is bypassed. Default 1 000. */
  storeTimeoutMs?: number
  /**
   * With a `store` that can lock (`lock`, e.g. `redisTokenStore` or `MemoryTokenStore`): the
   * longest wait for the token another process is fetching (it holds the store's lock of the
   * key), in ms; then this process fetches its own. 0 never waits. The lock itself is taken for
   * `retry.deadlineMs` plus two `storeTimeoutMs` and expires by itself, so a holder that crashed
   * blocks no one for longer than that. Default 5 000.
   */
  storeLockWaitMs?: number
  /** Most cache keys kept in memory (LRU). Default 1 000. */
  maxCacheEntries?: number
  /**
   * Allow `http:` on hosts other than loopback (`localhost`, 127.0.0.0/8, `[::1]`): for the issuer
   * and token endpoint (configured or discovered), and for the `resource` and `audience` URLs whose origins `fetch` and
   * `interceptor` send the token to. Default `false`: credentials and tokens only travel over TLS.
   */
  allowInsecureHttp?: boolean
  /**
   * DPoP (RFC 9449): tokens bound to a key the client holds, so a leaked token is useless without
   * it. Token requests carry a proof and expect `token_type: DPoP`; `fetch` and `interceptor` send
   * `Authorization: DPoP <token>` with a fresh proof per request; a server's `DPoP-Nonce` is
   * remembered per origin. The key's thumbprint is part of the cache key. `true` generates an
   * ES256 key. Default: off (Bearer tokens).
   */
  dpop?: boolean | TokenClientDpopOptions
  /** Clock, epoch ms. Default `Date.now`. Tests inject one to move through a token's lifetime. */
  now?: () => number
}

/**
 * Options with every default applied and every value checked: what each runtime module asks for
 * (its own settings type), plus the defaults of a call.
 */
export interface ResolvedOptions extends ServerTokenSourceSettings, ReuseTokenSourceSettings {
  /** Default scopes of a call. */
  scopes: readonly string[]
  /** Default resource indicators of a call. */
  resources: readonly string[]
  /** Default audiences of a call. */
  audiences: readonly string[]
  /** Default extra parameters of a call. */
  extraParams: Readonly<Record<string, string>>
  /** Origins `fetch` and `interceptor` attach the token to, when given. */
  origins: readonly string[] | undefined
  /** Every lifecycle timing; the server token source reads `defaultExpiresInMs` of them. */
  timings: LifecycleTimings
}

function fail(message: string): never {
  throw new ConfigurationError(message)
}

const OWNER = 'createTokenClient'

function number(name: string, value: unknown, fallback: number, min: number, max = Infinity): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    fail(`${OWNER}: ${name} must be a number from ${min} to ${max}`)
  }
  return value
}

/** A duration option in s, returned in ms; `fallbackMs` when it is not given. */
function seconds(name: string, value: unknown, fallbackMs: number, min: number): number {
  return value === undefined ? fallbackMs : number(name, value, 0, min) * 1000
}

function serverUrl(name: string, value: unknown, allowInsecureHttp: boolean): string | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string' || !URL.canParse(value)) fail(`${OWNER}: ${name} must be an absolute URL`)
  const url = new URL(value as string)
  if (url.protocol !== 'https:' && url.protocol !== 'http:') fail(`${OWNER}: ${name} must be an http(s) URL`)
  if (!isSecureTransport(url) && !allowInsecureHttp) {
    fail(`${OWNER}: ${name} uses http: on a non-loopback host; use https: or set allowInsecureHttp`)
  }
  if (!isAbsoluteUriWithoutFragment(value as string)) fail(`${OWNER}: ${name} must not have a fragment`)
  return value as string
}

/**
 * Options that were renamed or replaced, with what replaces them: an old name throws rather than
 * being silently ignored, which would quietly bring back a default.
 */
const REPLACED_OPTIONS: Readonly<Record<string, string>> = {
  clockSkewSec: 'clockSkewSec is replaced by expiryMarginSec (same meaning: expire a token this early)',
}
const REPLACED_RETRY_OPTIONS: Readonly<Record<string, string>> = {
  maxRetryAfterMs: 'retry.maxRetryAfterMs is replaced by maxRetryAfterSec, which also bounds the hold-back',
}

function refuseReplaced(value: object, replaced: Readonly<Record<string, string>>): void {
  for (const [name, message] of Object.entries(replaced)) if (name in value) fail(`${OWNER}: ${message}`)
}

function retryPolicy(value: unknown, maxRetryAfterMs: number): RetryPolicy {
  const d = DEFAULT_RETRY_POLICY
  if (value === false)
    return { retries: 0, minDelayMs: 0, maxDelayMs: 0, maxRetryAfterMs, deadlineMs: d.deadlineMs }
  if (value !== undefined && (typeof value !== 'object' || value === null)) {
    fail(`${OWNER}: retry must be an object or false`)
  }
  const r = (value ?? {}) as RetryOptions
  refuseReplaced(r, REPLACED_RETRY_OPTIONS)
  const minDelayMs = number('retry.minDelayMs', r.minDelayMs, d.minDelayMs, 0)
  return {
    retries: number('retry.retries', r.retries, d.retries, 0, 100),
    minDelayMs,
    maxDelayMs: number('retry.maxDelayMs', r.maxDelayMs, d.maxDelayMs, minDelayMs),
    maxRetryAfterMs,
    deadlineMs: number('retry.deadlineMs', r.deadlineMs, d.deadlineMs, 1),
  }
}

/** The client's DPoP state for the `dpop` option, or `undefined` when DPoP is off. */
function dpopProver(value: unknown, now: () => number): DpopProver | undefined {
  const where = `${OWNER}: dpop`
  if (value === undefined || value === false) return undefined
  if (value !== true && (typeof value !== 'object' || value === null))
    fail(`${where} must be true, false or an object`)
  const { key, alg, allowBearerFallback } = (value === true ? {} : value) as TokenClientDpopOptions
  if (alg !== undefined && !(DPOP_PROOF_ALGS as readonly unknown[]).includes(alg)) {
    fail(`${where}: alg must be one of ${DPOP_PROOF_ALGS.join(', ')}`)
  }
  if (allowBearerFallback !== undefined && typeof allowBearerFallback !== 'boolean') {
    fail(`${where}: allowBearerFallback must be a boolean`)
  }
  const dpopKey = key === undefined ? generateDpopKey(alg ?? 'ES256') : importDpopKey(where, key, alg)
  return new DpopProver(dpopKey, { now, allowBearerFallback: allowBearerFallback === true })
}

function isStore(value: unknown): value is TokenStore {
  const s = value as TokenStore
  return (
    typeof s === 'object' &&
    s !== null &&
    typeof s.get === 'function' &&
    typeof s.set === 'function' &&
    typeof s.delete === 'function'
  )
}

/**
 * Applies the documented defaults and checks every option.
 *
 * @throws {ConfigurationError} naming the first bad option.
 */
export function resolveOptions(options: TokenClientOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) fail(`${OWNER}: options must be an object`)
  refuseReplaced(options, REPLACED_OPTIONS)
  const allowInsecureHttp = options.allowInsecureHttp === true
  const issuer = serverUrl('issuer', options.issuer, allowInsecureHttp)
  const tokenEndpoint = serverUrl('tokenEndpoint', options.tokenEndpoint, allowInsecureHttp)
  if (issuer === undefined && tokenEndpoint === undefined) fail(`${OWNER}: give issuer or tokenEndpoint`)
  if (typeof options.clientId !== 'string' || options.clientId === '') {
    fail(`${OWNER}: clientId must be a non-empty string`)
  }
  const auth = options.auth
  if (typeof auth !== 'object' || auth === null || typeof auth.apply !== 'function') {
    fail(`${OWNER}: auth must be a client authentication strategy such as clientSecretBasic(secret)`)
  }
  if (auth.tls !== undefined) {
    if (typeof auth.tls?.connectOptions !== 'function' || typeof auth.tls.thumbprint !== 'string') {
      fail(`${OWNER}: auth.tls must come from tlsClientAuth or selfSignedTlsClientAuth`)
    }
    // A certificate is presented only in a TLS handshake: over http the server would see none.
    if (tokenEndpoint !== undefined && new URL(tokenEndpoint).protocol !== 'https:') {
      fail(`${OWNER}: ${auth.method} needs an https: tokenEndpoint, where the certificate can be presented`)
    }
  }
  if (options.store !== undefined && !isStore(options.store)) {
    fail(`${OWNER}: store must have get, set and delete methods`)
  }
  if (options.dispatcher !== undefined && typeof options.dispatcher?.dispatch !== 'function') {
    fail(`${OWNER}: dispatcher must be an undici Dispatcher`)
  }
  if (options.now !== undefined && typeof options.now !== 'function') fail(`${OWNER}: now must be a function`)
  const now = options.now ?? Date.now
  const t = DEFAULT_LIFECYCLE_TIMINGS
  const retry = retryPolicy(
    options.retry,
    seconds('maxRetryAfterSec', options.maxRetryAfterSec, DEFAULT_RETRY_POLICY.maxRetryAfterMs, 0),
  )
  const storeTimeoutMs = number('storeTimeoutMs', options.storeTimeoutMs, DEFAULT_STORE_TIMEOUT_MS, 1)
  return {
    issuer,
    tokenEndpoint,
    clientId: options.clientId,
    auth,
    scopes: normalizeScopes(`${OWNER}: scope`, options.scope),
    resources: normalizeResources(`${OWNER}: resource`, options.resource),
    audiences: normalizeAudiences(`${OWNER}: audience`, options.audience),
    extraParams: normalizeExtraParams(`${OWNER}: extraParams`, options.extraParams),
    origins:
      options.origins === undefined
        ? undefined
        : normalizeOrigins(`${OWNER}: origins`, options.origins, { allowInsecureHttp }),
    allowInsecureHttp,
    dispatcher: options.dispatcher,
    timeoutMs: number('timeoutMs', options.timeoutMs, DEFAULT_ATTEMPT_TIMEOUT_MS, 1),
    maxResponseBytes: number('maxResponseBytes', options.maxResponseBytes, DEFAULT_MAX_RESPONSE_BYTES, 1024),
    retry,
    timings: {
      refreshRatio: number('refreshRatio', options.refreshRatio, t.refreshRatio, 0.05, 1),
      refreshMarginMs: seconds('refreshMarginSec', options.refreshMarginSec, t.refreshMarginMs, 0),
      refreshJitterRatio: number(
        'refreshJitterRatio',
        options.refreshJitterRatio,
        t.refreshJitterRatio,
        0,
        0.5,
      ),
      expiryMarginMs: seconds('expiryMarginSec', options.expiryMarginSec, t.expiryMarginMs, 0),
      defaultExpiresInMs: seconds(
        'defaultExpiresInSec',
        options.defaultExpiresInSec,
        t.defaultExpiresInMs,
        1,
      ),
      maxLifetimeMs: seconds('maxLifetimeSec', options.maxLifetimeSec, t.maxLifetimeMs, 1),
    },
    store: options.store,
    storeTimeoutMs,
    storeLockWaitMs: number('storeLockWaitMs', options.storeLockWaitMs, DEFAULT_STORE_LOCK_WAIT_MS, 0),
    storeLockTtlMs: retry.deadlineMs + 2 * storeTimeoutMs,
    maxCacheEntries: number('maxCacheEntries', options.maxCacheEntries, DEFAULT_MAX_CACHE_ENTRIES, 1),
    dpop: dpopProver(options.dpop, now),
    now,
  }
}
