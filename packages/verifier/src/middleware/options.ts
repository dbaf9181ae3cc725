/**
 * The options every middleware entry point accepts, checked once when the middleware is created.
 *
 * @module middleware/options
 */
import { ConfigurationError } from '@oauth-m2m/core'
import { isScopeToken } from '@oauth-m2m/core/internal'
import { renamedScopesOption } from '../scopes.js'
import type { DpopPolicy, Verifier, VerifyOptions } from '../types.js'
import {
  resolveTrustedProxy,
  type TrustedProxyOptions,
  type TrustedProxySettings,
} from './client-certificate.js'
import { type PublicBaseUrl, resolvePublicBaseUrl } from './request-url.js'
import {
  type ResourceMetadataOptions,
  type ResourceMetadataSettings,
  resolveResourceMetadata,
} from './resource-metadata.js'

/** Options shared by the node:http, Express, Fastify, Hono and fetch middleware. */
export interface BearerAuthOptions {
  /** Checks the tokens; usually `createVerifier(…)`. The middleware never closes it. */
  verifier: Verifier
  /**
   * Scopes every request must carry; all of them, else 403 `insufficient_scope`. Default: none.
   * (Formerly `scopes`, which is now refused with a `ConfigurationError`.)
   */
  requiredScopes?: readonly string[]
  /**
   * The protection space named in `WWW-Authenticate: Bearer realm="…"`. Default: no `realm`
   * attribute (the challenge is then just `Bearer`, or `Bearer error="…"`).
   */
  realm?: string
  /**
   * `Retry-After` of the 503 answer sent when the token cannot be checked right now (keys or
   * introspection unreachable), in seconds. Default 5. `0` leaves the header out.
   */
  retryAfterSec?: number
  /**
   * Publishes OAuth 2.0 Protected Resource Metadata (RFC 9728): the middleware answers
   * `GET /.well-known/oauth-protected-resource` (and the path-suffixed form of §3.1 when
   * `resource` has a path) with the JSON document, without asking for a token, and every
   * `WWW-Authenticate` challenge it sends carries `resource_metadata="<metadata URL>"` (§5.1), so a
   * discovery-driven client (MCP clients, for one) learns from its first 401 which authorization
   * server to ask. The middleware only sees the well-known path where it is mounted for it: app-wide,
   * or on that path. Default: none (no document, no `resource_metadata`).
   */
  resourceMetadata?: ResourceMetadataOptions
  /**
   * The public URL of this service as clients call it, up to where the request's own path
   * starts: `https://api.example.com`, or `https://example.com/api` when a proxy strips `/api`
   * before forwarding. A DPoP proof must name the URL the client used (RFC 9449 §4.3 `htu`), which
   * behind a proxy or load balancer is not the one this process sees. Default: the request's own
   * URL as the framework gives it — node:http: `http`/`https` by the socket and the `Host` header;
   * Express: `req.protocol` (which follows the app's `trust proxy`) and the `Host` header; Fastify:
   * `request.protocol` and `request.host` (which follow its `trustProxy`); Hono and fetch:
   * `request.url`. The middleware itself never reads `X-Forwarded-*`. Set it in production: the
   * `Host` header is whatever the client sent.
   */
  publicBaseUrl?: string | URL
  /**
   * The TLS-terminating proxies (nginx, Envoy, a load balancer) whose RFC 9440 `Client-Cert`
   * header carries the client certificate, for certificate-bound tokens (RFC 8705 §3,
   * `cnf["x5t#S256"]`). The header is read only from a request whose peer address is one of
   * `addresses` — node:http, Express, Fastify: the socket's; fetch and Hono: the `remoteAddress`
   * the caller gives, since a `Request` carries none — and then the proxy's own TLS certificate is
   * not the client's. From any other peer the header is ignored and the TLS connection's own
   * certificate counts. Same names as the server's `trustedProxy`. Default: none (the header is
   * never read).
   */
  trustedProxy?: TrustedProxyOptions
}

/** {@link BearerAuthOptions} checked and with defaults applied. */
export interface BearerAuthSettings {
  readonly verifier: Verifier
  readonly realm: string | undefined
  readonly retryAfterSec: number
  /** The checked `resourceMetadata`, or `undefined` when not configured. */
  readonly resourceMetadata: ResourceMetadataSettings | undefined
  /** What `verify()` gets for the required scopes; `undefined` when none are required. */
  readonly verifyOptions: VerifyOptions | undefined
  /** The checked `publicBaseUrl`, or `undefined`. */
  readonly publicBaseUrl?: PublicBaseUrl | undefined
  /** The schemes the verifier accepts; `disabled` (Bearer only) for a verifier that does not say. */
  readonly dpop?: DpopPolicy | undefined
  /** The checked `trustedProxy`, or `undefined`. */
  readonly trustedProxy?: TrustedProxySettings | undefined
}

/** The policy of a `Verifier` that says nothing about DPoP: Bearer only, as before DPoP. */
const BEARER_ONLY: DpopPolicy = Object.freeze({ mode: 'disabled', algorithms: Object.freeze([]) })

function dpopPolicyOf(verifier: Verifier): DpopPolicy {
  const policy = verifier.dpop
  if (policy === undefined || policy === null || typeof policy !== 'object') return BEARER_ONLY
  if (policy.mode !== 'allowed' && policy.mode !== 'required') return BEARER_ONLY
  return policy
}

/**
 * Checks the `requiredScopes` of options (the middleware's, a route's or one call's), refusing the
 * former name `scopes`; returns the `verify()` options for them.
 */
export function verifyOptionsFor(
  options: { requiredScopes?: readonly string[] | undefined } | undefined,
  where: string,
): VerifyOptions | undefined {
  if (options === undefined || options === null) return undefined
  const renamed = renamedScopesOption(options, where)
  if (renamed !== undefined) throw new ConfigurationError(renamed)
  const { requiredScopes } = options
  if (requiredScopes === undefined) return undefined
  if (!Array.isArray(requiredScopes)) {
    throw new ConfigurationError(`${where}: requiredScopes must be an array of strings`)
  }
  for (const scope of requiredScopes) {
    if (typeof scope !== 'string' || !isScopeToken(scope)) {
      throw new ConfigurationError(`${where}: every scope must be a non-empty RFC 6749 scope-token`)
    }
  }
  return requiredScopes.length === 0 ? undefined : { requiredScopes: Object.freeze([...requiredScopes]) }
}

/**
 * The `verify()` options of one request given its own options (node's `authenticate()`, the fetch
 * check): its `requiredScopes` replace the middleware's; without them the middleware's apply.
 */
export function perCallVerifyOptions(
  settings: BearerAuthSettings,
  callOptions: { requiredScopes?: readonly string[] | undefined } | undefined,
  where: string,
): VerifyOptions | undefined {
  if (callOptions === undefined || callOptions === null) return settings.verifyOptions
  if (callOptions.requiredScopes === undefined && renamedScopesOption(callOptions, where) === undefined) {
    return settings.verifyOptions
  }
  return verifyOptionsFor(callOptions, where)
}

/** Validates the options; throws `ConfigurationError` at start-up rather than on a request. */
export function resolveBearerAuthOptions(options: BearerAuthOptions): BearerAuthSettings {
  if (typeof options?.verifier?.verify !== 'function') {
    throw new ConfigurationError('bearer auth: options.verifier must be a Verifier (createVerifier())')
  }
  if (options.realm !== undefined && typeof options.realm !== 'string') {
    throw new ConfigurationError('bearer auth: realm must be a string')
  }
  const retryAfterSec = options.retryAfterSec ?? 5
  const dpop = dpopPolicyOf(options.verifier)
  if (!Number.isSafeInteger(retryAfterSec) || retryAfterSec < 0) {
    throw new ConfigurationError('bearer auth: retryAfterSec must be a non-negative integer')
  }
  return {
    verifier: options.verifier,
    realm: options.realm,
    retryAfterSec,
    resourceMetadata: resolveResourceMetadata(options.resourceMetadata, dpop),
    verifyOptions: verifyOptionsFor(options, 'bearer auth'),
    publicBaseUrl: resolvePublicBaseUrl(options.publicBaseUrl),
    dpop,
    trustedProxy: resolveTrustedProxy(options.trustedProxy),
  }
}
