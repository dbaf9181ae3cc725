/**
 * Bearer-token check for web-standard handlers (`Request` in, `Response` out): Next.js route
 * handlers, Cloudflare Workers, Bun, Deno, undici-based servers.
 *
 * ```ts
 * import { bearerAuth } from '@oauth-m2m/verifier/fetch'
 *
 * const auth = bearerAuth({ verifier, requiredScopes: ['read:things'], realm: 'things-api' })
 * export async function GET(request: Request) {
 *   const principal = await auth(request)
 *   if (principal instanceof Response) return principal // 400/401/403/503, ready to send
 *   return Response.json({ caller: principal.clientId })
 * }
 * ```
 *
 * @module fetch
 */
import type { X509Certificate } from 'node:crypto'
import { authenticate, withSignal } from './middleware/authenticate.js'
import { Challenge } from './middleware/challenge.js'
import {
  type BearerAuthOptions,
  perCallVerifyOptions,
  resolveBearerAuthOptions,
} from './middleware/options.js'
import { isResourceMetadataRequest } from './middleware/resource-metadata.js'
import {
  challengeResponse,
  requestTarget,
  resourceMetadataResponse,
  webCredentials,
} from './middleware/web-request.js'
import type { Principal } from './types.js'

export type { TrustedProxyOptions } from './middleware/client-certificate.js'
export type { BearerAuthOptions } from './middleware/options.js'
export type { ResourceMetadataOptions } from './middleware/resource-metadata.js'
export type { Principal } from './types.js'

/** Per-call options of a {@link FetchBearerAuth} check. */
export interface FetchAuthenticateOptions {
  /**
   * Scopes this request needs, instead of the `requiredScopes` given to {@link bearerAuth}.
   * (Formerly `scopes`, which is now refused with a `ConfigurationError`.)
   */
  requiredScopes?: readonly string[]
  /**
   * The address the request arrived from (the TCP peer, as the host knows it: `server.requestIP()`
   * in Bun, `info.remoteAddr` in Deno, `socket.remoteAddress` on node). The `trustedProxy` header
   * is read only when this is one of `trustedProxy.addresses`: a `Request` does not say where it
   * came from, so without it the header is never believed. Default: none.
   */
  remoteAddress?: string
  /**
   * The certificate the TLS peer presented, when this host terminates mutual TLS itself
   * (node: `socket.getPeerX509Certificate()`); used unless the request came from a trusted proxy.
   * Default: none.
   */
  clientCertificate?: X509Certificate
}

/**
 * Checks one request: resolves to the caller's Principal, or to the `Response` to return
 * (400/401/403/503 with RFC 6750 headers, or 200 with the RFC 9728 metadata document). Rejects only on an unexpected (non-`BearerError`)
 * failure, which the platform then reports as its own 500.
 */
export type FetchBearerAuth = (
  request: Request,
  options?: FetchAuthenticateOptions,
) => Promise<Principal | Response>

/**
 * Creates the check. It reads only `Authorization: Bearer <token>` (RFC 6750 §2.1) and, when the
 * verifier accepts DPoP, `Authorization: DPoP <token>` with its `DPoP` proof (RFC 9449 §7), whose
 * URL is `request.url` (or `publicBaseUrl`); a token in
 * the query string is refused with 400 `invalid_request`. The body is never read. The request's
 * `signal` is passed to `verify()`, so an aborted request stops waiting for key or introspection
 * lookups. A certificate-bound token (RFC 8705) needs the per-call `clientCertificate`, or
 * `remoteAddress` naming a `trustedProxy` whose `Client-Cert` header holds the certificate.
 *
 * With `resourceMetadata`, a `GET` or `HEAD` of the RFC 9728 document resolves to the `Response`
 * that serves it (no token needed), so a handler that passes every request through the check
 * publishes the document with no route of its own.
 *
 * @throws {ConfigurationError} invalid options.
 */
export function bearerAuth(options: BearerAuthOptions): FetchBearerAuth {
  const settings = resolveBearerAuthOptions(options)
  return async (request, callOptions) => {
    const verifyOptions = perCallVerifyOptions(settings, callOptions, 'bearer auth')
    if (isResourceMetadataRequest(settings.resourceMetadata, request.method, requestTarget(request))) {
      return resourceMetadataResponse(settings.resourceMetadata, request.method)
    }
    const outcome = await authenticate(
      settings,
      webCredentials(request, settings, callOptions),
      withSignal(verifyOptions, request.signal),
    )
    return outcome instanceof Challenge ? challengeResponse(outcome) : outcome
  }
}
