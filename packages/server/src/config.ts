/**
 * The options of `createAuthorizationServer`, which the CLI's JSON config file holds too. Their
 * validation and defaults are `resolve-config`'s; the types here are what users write.
 *
 * @module config
 */
import type { JWK } from 'jose'
import type { ClientMetadata, PublicClientMetadata } from './client-metadata.js'
import type { ServerProfile } from './fapi2-profile.js'
import type { RegistrationConfig } from './registration-config.js'
import type { RequestLogHook } from './request-log.js'
import type { TokenFormat } from './resource.js'
import type { ServerStore } from './server-store.js'
import type { SigningAlg } from './signing/signing-key.js'

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
 * client id and source address (the socket's peer for `listen()`; `remoteAddress` for `handle()`;
 * the forwarded address behind a `trustedProxy`; an IPv6 address by its /64),
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
   * Most counting windows, and separately most live locks, kept in memory, for each of the two
   * counts (per client id and source address, per client id). Every entry is keyed by a fixed-size
   * digest, so memory is bounded whatever the length of the ids. A live lock is never evicted to
   * make room; when the lock table is full, a first failure locks at once. Default 10 000.
   */
  maxTrackedEntries?: number
  /** Length of the window, in milliseconds, counted from the first failure. Default 60 000. */
  windowMs?: number
}

/**
 * The reverse proxies in front of the server whose word on the caller is believed. Only requests
 * whose peer (the socket's, or `remoteAddress` given to `handle()`) is one of `addresses` are read
 * this way; from anyone else the headers are ignored, as a caller can write them.
 */
export interface TrustedProxyConfig {
  /**
   * The proxies: IP addresses (`10.0.0.7`, `::1`) and CIDR blocks (`10.0.0.0/8`, `fd00::/8`).
   * IPv4 entries also match IPv4-mapped IPv6 peers (`::ffff:10.0.0.7`).
   */
  addresses: string[]
  /**
   * Whether the caller's address, for brute-force protection, is read from `X-Forwarded-For` on
   * requests from these proxies: the right-most address in it that is not itself a trusted proxy.
   * A value that is not an IP address makes the proxy's own address count. Default `true`.
   */
  forwardedFor?: boolean
  /**
   * The header in which these proxies forward the client certificate of the TLS connection they
   * terminated, as RFC 9440 defines `Client-Cert`: a structured-field byte sequence holding the
   * DER certificate (`:MIIB…:`). Set it (usually `client-cert`) for mutual TLS behind a proxy.
   * Read only on requests whose peer is one of `addresses`; from those, the header is the client
   * certificate and the proxy's own TLS certificate (if it presents one) is not. A malformed value
   * counts as no certificate (RFC 8941 §4.2: a field that fails to parse is ignored). Default none:
   * the header is never read.
   */
  certificateHeader?: string
}

/**
 * Mutual-TLS client authentication and certificate-bound access tokens (RFC 8705). Giving this
 * option turns mTLS on: `self_signed_tls_client_auth` (and with `ca`, `tls_client_auth`) may be
 * registered and are advertised, and the metadata says `tls_client_certificate_bound_access_tokens`.
 * The client certificate comes from a `listen({ tls })` listener, a trusted proxy's
 * `certificateHeader`, or `handle(request, { clientCertificate })`.
 */
export interface MtlsConfig {
  /**
   * The CA certificates (PEM text, several in one string or a list) that issue the certificates
   * of `tls_client_auth` clients. A presented certificate must be issued by one of them (an
   * intermediate CA that issues client certificates is listed itself; intermediates a client sends
   * are not used), be within its validity period by the server's clock, not be a CA certificate,
   * and allow TLS client authentication when it has an extended key usage. Required for
   * `tls_client_auth`. Default none.
   */
  ca?: string | string[]
  /**
   * Whether every access token is bound to the client certificate of its request (`cnf["x5t#S256"]`,
   * RFC 8705 §3): a token request without one is then refused with 401 `invalid_client`. Default
   * `false`: only tokens of clients registered with `tls_client_certificate_bound_access_tokens`.
   */
  certificateBoundAccessTokens?: boolean
  /**
   * `mtls_endpoint_aliases` (RFC 8705 §5): where clients reach the endpoints with a certificate
   * when the main URLs do not ask for one (e.g. `https://mtls.as.example.com/token`). Published in
   * the metadata; a path that differs from the endpoint's own is routed to it too. Default none.
   */
  endpointAliases?: { token?: string; introspection?: string; revocation?: string }
}

/**
 * The access-token signing keys. Where they live depends on the configuration:
 * - `keys` given: the operator's keys, kept in this process and never written to the store (with
 *   several instances, give each the same keys, and rotate by changing the configuration).
 * - no `keys`, and a `store` given: the keys live on the store, shared by every instance on it.
 *   The first instance creates them; each loads them at start, again on a `signing-keys` event
 *   and every `refreshEverySec`; `rotateSigningKey()` on any instance is picked up by all. A
 *   replaced key stays published for the longest access-token lifetime plus `refreshEverySec`
 *   plus 60 s after its rotation, the same on every instance.
 * - neither: one key generated at start, in this process only.
 */
export interface SigningConfig {
  /**
   * Algorithm of generated keys (and of configured keys whose JWK has no `alg`). Default `ES256`.
   * Keys already on the store keep their algorithm.
   */
  alg?: SigningAlg
  /**
   * Private JWKs: the first signs, the others stay published. Default none: keys are generated
   * (and, with a `store`, shared through it).
   */
  keys?: JWK[]
  /**
   * Replaces the current key on a schedule: once it has been current this many seconds, the next
   * key (published since the previous rotation) becomes current. With keys on a shared store,
   * one instance rotates per period (compare-and-set on the stored set) and the others follow.
   * Checked every `refreshEverySec` (or every `rotateEverySec`, when shorter), so a rotation
   * happens up to that late. Default none: keys change only through `rotateSigningKey()`.
   */
  rotateEverySec?: number
  /**
   * How often, in seconds, an instance whose keys live on the store loads them again in case it
   * missed a `signing-keys` event, and checks whether a scheduled rotation is due. Default 30.
   */
  refreshEverySec?: number
}

/**
 * What a {@link AuthorizationServerConfig.beforeSign} hook is told about the token being issued.
 * Every member is the hook's own copy: changing it changes nothing; return the claims instead.
 */
export interface BeforeSignContext {
  /** The client the token is issued to, without its secrets (as `getClient` shows it). */
  client: PublicClientMetadata
  /** The granted scopes, in the order of the token's `scope` claim. */
  scopes: readonly string[]
  /** The `resource` parameters of the request (RFC 8707), as sent; empty when none was sent. */
  resources: readonly string[]
  /**
   * The token request's form parameters without the client's credentials (`client_secret` and
   * `client_assertion` are left out). A repeated parameter (only `resource` may repeat) has its
   * first value here; `resources` has them all. Providers' own parameters (`audience`, …) are
   * here too.
   */
  params: Readonly<Record<string, string>>
  /** The claims the server would issue without the hook: iss, sub, aud, exp, iat, jti, client_id, scope. */
  claims: Readonly<Record<string, unknown>>
  /** How the token is issued: a signed JWT, or an opaque token whose claims are stored. */
  format: TokenFormat
}

/**
 * Customises the claims of every access token the server issues. The returned members are merged
 * over `context.claims`; a member whose value is `undefined` removes that claim; returning
 * `undefined` keeps the claims as they are. May be async. A hook that throws or rejects makes the
 * token request fail with 500 `server_error` (the error goes to `onInternalError`, never to the
 * client).
 */
export type BeforeSignHook = (
  context: BeforeSignContext,
) => Record<string, unknown> | undefined | Promise<Record<string, unknown> | undefined>

/**
 * Where the endpoints live, as absolute `http(s)` URLs without query or fragment, for a server
 * that must answer like a provider with its own URL layout. The router matches a request on the
 * URL's path only, so an endpoint may be on another host than the issuer (a reverse proxy or a
 * test dispatcher routes it here). Each URL is what the metadata document names.
 */
export interface EndpointsConfig {
  /** The token endpoint; also accepted as a client assertion's `aud`. Default `${issuer}/token`. */
  token?: string
  /** The JWK Set (`jwks_uri`). Default `${issuer}/jwks`. */
  jwks?: string
  /** Token introspection (RFC 7662). Default `${issuer}/introspect`. */
  introspection?: string
  /** Token revocation (RFC 7009). Default `${issuer}/revoke`. */
  revocation?: string
  /**
   * More URLs that serve the same metadata document, besides the RFC 8414 one
   * (`/.well-known/oauth-authorization-server` + the issuer's path), which always does: e.g.
   * `${issuer}/.well-known/openid-configuration`. Default none.
   */
  metadata?: string[]
}

/**
 * How the token endpoint treats DPoP (RFC 9449):
 * - `allowed` (default): a token request with a valid `DPoP` proof gets a token bound to the
 *   proof's key (`token_type` `DPoP`); one without gets a Bearer token, unless its client is
 *   registered with `dpop_bound_access_tokens: true`.
 * - `required`: every token request needs a valid proof (no Bearer tokens are issued).
 * - `disabled`: the `DPoP` header is not read (as by a server that does not know DPoP): every
 *   token is a Bearer token, and the metadata does not advertise DPoP.
 */
export type DpopMode = 'allowed' | 'required' | 'disabled'

/**
 * Server-provided DPoP nonces (RFC 9449 §8). Each nonce is an HMAC of a time window, so every
 * instance holding the same `secret` hands out and accepts the same nonces without sharing state.
 */
export interface DpopNonceConfig {
  /**
   * The HMAC key, at least 32 bytes (a string counts its UTF-8 bytes). Give every instance of a
   * fleet the same one. Default: 32 random bytes per server (one instance only).
   */
  secret?: string
  /**
   * Nonces rotate every `windowSec` seconds; one is accepted in its window and the next (so for
   * between `windowSec` and twice that). Default 60.
   */
  windowSec?: number
}

/** DPoP (RFC 9449) at the token endpoint. */
export interface DpopConfig {
  /** See {@link DpopMode}. Default `allowed`. */
  mode?: DpopMode
  /**
   * Algorithms a proof may be signed with, advertised as `dpop_signing_alg_values_supported`.
   * Asymmetric ones only. Default every one core accepts: ES256, ES384, ES512, EdDSA, Ed25519,
   * PS256, PS384, PS512, RS256, RS384, RS512.
   */
  algorithms?: string[]
  /**
   * How far a proof's `iat` may be from the server's clock, in seconds, either way. A used proof
   * is remembered (replay) until it is this much older than its `iat`. Default 60.
   */
  iatWindowSec?: number
  /**
   * Server nonces (RFC 9449 §8): `true` (a random secret) or their settings. Every proof must then
   * carry a current nonce, else 400 `use_dpop_nonce` with a fresh one in `DPoP-Nonce`; every
   * token answer carries the current nonce too. Default `false`.
   */
  nonce?: boolean | DpopNonceConfig
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
  /** Access token signing keys. Default: one generated ES256 key. See {@link SigningConfig}. */
  signing?: SigningConfig
  /**
   * The `typ` header of JWT access tokens, or `null` to leave `typ` out (as some providers do,
   * while others write `JWT`). The server's own introspection and revocation accept its tokens
   * under this `typ`. Default `at+jwt` (RFC 9068 §2.1).
   */
  accessTokenTyp?: string | null
  /**
   * Customises the claims of every access token issued by the token endpoint, JWT or opaque (for
   * opaque tokens the stored claims, which introspection answers). See {@link BeforeSignHook}. Not
   * settable from the JSON config file. Default none: tokens carry the RFC 9068 claims only.
   */
  beforeSign?: BeforeSignHook
  /** Where the endpoints live. Default: each under the issuer (`/token`, `/jwks`, `/introspect`, `/revoke`). */
  endpoints?: EndpointsConfig
  /**
   * DPoP (RFC 9449) at the token endpoint: a mode, or the settings. Default `allowed`: a request
   * with a valid proof gets a DPoP-bound token, one without a Bearer token (unless its client
   * registered `dpop_bound_access_tokens: true`). See {@link DpopConfig}.
   */
  dpop?: DpopMode | DpopConfig
  /**
   * Longest accepted lifetime of a client assertion (`exp` − now), in seconds. Default 3600: what
   * Python's authlib signs by default (MSAL signs 600 s, oauth4webapi 60 s). Replay protection does
   * not weaken with it, as each `jti` is remembered until the assertion's `exp`.
   */
  assertionMaxLifetimeSec?: number
  /**
   * Whether a client assertion's `aud` must be the issuer identifier alone, as a single string
   * (draft-ietf-oauth-rfc7523bis-11 §4): the token endpoint, the endpoint called and any array
   * (even `[issuer]`) are then refused, as is a `typ` header naming another kind of JWT (no `typ`,
   * `JWT` and `client-authentication+jwt` pass). Default `false`: the issuer, the token endpoint
   * and the endpoint called are accepted, alone or in an array, for clients written before the
   * draft. Always `true` under `profile: 'fapi2'`.
   */
  strictAssertionAudience?: boolean
  /**
   * A named set of stricter rules. `fapi2`: the FAPI 2.0 Security Profile (final) as it applies to
   * the client credentials grant (see the README's "FAPI 2.0" section): only `private_key_jwt`,
   * `tls_client_auth` and `self_signed_tls_client_auth` clients (a shared-secret or public client
   * is refused at load and at `registerClient`), every token sender-constrained (DPoP, or a client
   * certificate), PS256, ES256 and EdDSA (Ed25519) only, RSA keys of at least 2048 bits, and
   * `strictAssertionAudience`. The metadata advertises only what the profile allows. Default none.
   */
  profile?: ServerProfile
  /**
   * Accepted difference between a client's clock and the server's when checking a client
   * assertion's `exp`, `nbf` and `iat`, in seconds. Default 30. Formerly `clockSkewSec`, a name
   * now refused.
   */
  clockToleranceSec?: number
  /**
   * Brute-force protection, or `false` to turn it off. Default
   * `{ maxFailures: 10, maxFailuresPerClient: 1000, windowMs: 60000, maxTrackedEntries: 10000 }`.
   */
  rateLimit?: RateLimitConfig | false
  /**
   * Reverse proxies whose `X-Forwarded-For` names the caller for brute-force protection. Default
   * none: the source is the socket's peer (`listen()`) or `remoteAddress` (`handle()`), and
   * `X-Forwarded-For` is never read.
   */
  trustedProxy?: TrustedProxyConfig
  /** Mutual-TLS client authentication and certificate-bound tokens (RFC 8705). Default: off. See {@link MtlsConfig}. */
  mtls?: MtlsConfig
  /**
   * Dynamic client registration (RFC 7591 `POST /register`, RFC 7592 management), with
   * `initialAccessTokens` or `open: true`. Registered clients live in `store`: with the default
   * memory store they are lost on restart. Give every instance of a fleet the same setting.
   * Default: off. See {@link RegistrationConfig}.
   */
  registration?: RegistrationConfig
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
  /**
   * How long an idle keep-alive connection of a `listen()` listener stays open after an answer, in
   * milliseconds. Default 5000. Like `requestTimeoutMs` and `headersTimeoutMs`, it applies to
   * `listen()` and the CLI only: a host serving `handle()` sets its own server's time-outs.
   */
  keepAliveTimeoutMs?: number
  /**
   * Where opaque tokens, revocations and used assertion and DPoP proof ids are kept. Default: a
   * `MemoryServerStore` reading the server's `now`. A store given here keeps its own clock:
   * give a `MemoryServerStore` the same `now`.
   */
  store?: ServerStore
  /**
   * The server's clock, in epoch milliseconds: read for `iat`/`exp` of issued tokens, client
   * assertion checks, opaque token expiry, revocation bookkeeping, rate-limit windows and signing-key
   * retention. For tests that move time without fake timers; not settable from the JSON config
   * file. Default `Date.now`.
   */
  now?: () => number
  /**
   * Called with an unexpected internal error (which the caller sees as a 500). Default: writes the
   * error's name and message to stderr. Never given request data.
   */
  onInternalError?: (error: unknown) => void
  /**
   * Called once per answered request (`listen()` and `handle()`) with a plain-data
   * `RequestLogEntry`: method, path, status, OAuth error code, the client the request named,
   * how it tried to authenticate, and the duration. It never holds a secret, assertion, token or
   * header value, so it can be logged as it is; the CLI writes it with pino. Called after the
   * answer is written; what it throws goes to `onInternalError`. Not settable from the JSON config
   * file. Default none: nothing is measured.
   */
  onRequest?: RequestLogHook
}
