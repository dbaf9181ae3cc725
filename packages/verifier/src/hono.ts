/**
 * Bearer-token middleware for Hono 4, with the verified {@link Principal} in the context variable
 * `auth` (`c.get('auth')`, typed through {@link BearerAuthEnv}).
 *
 * ```ts
 * import { Hono } from 'hono'
 * import { bearerAuth, type BearerAuthEnv } from '@oauth-m2m/verifier/hono'
 *
 * const app = new Hono<BearerAuthEnv>()
 * app.use('/things/*', bearerAuth({ verifier, realm: 'things-api' }))
 * app.get('/things', bearerAuth({ verifier, requiredScopes: ['read:things'] }), (c) =>
 *   c.json({ caller: c.get('auth').clientId }),
 * )
 * ```
 *
 * @module hono
 */

import { ConfigurationError } from '@oauth-m2m/core'
import type { Context, MiddlewareHandler } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import { authenticate, withSignal } from './middleware/authenticate.js'
import { Challenge } from './middleware/challenge.js'
import type { WebConnection } from './middleware/client-certificate.js'
import { type BearerAuthOptions, resolveBearerAuthOptions } from './middleware/options.js'
import { isResourceMetadataRequest } from './middleware/resource-metadata.js'
import { requestTarget, webCredentials } from './middleware/web-request.js'
import type { Principal } from './types.js'

export type { TrustedProxyOptions, WebConnection } from './middleware/client-certificate.js'
export type { BearerAuthOptions } from './middleware/options.js'
export type { ResourceMetadataOptions } from './middleware/resource-metadata.js'
export type { Principal } from './types.js'

/** The Hono environment the middleware provides: `c.get('auth')` is the caller's Principal. */
export type BearerAuthEnv = { Variables: { auth: Principal } }

/** Options of the Hono middleware: the shared ones, and how to learn about the connection. */
export interface HonoBearerAuthOptions extends BearerAuthOptions {
  /**
   * What the runtime knows of the request's connection, which a `Request` does not carry: its
   * peer address (`remoteAddress`, compared with `trustedProxy.addresses`; e.g.
   * `getConnInfo(c).remote.address` from the runtime's `conninfo` helper) and, when this process
   * terminates mutual TLS itself, the client's certificate (`clientCertificate`; on
   * `@hono/node-server`: `c.env.incoming.socket.getPeerX509Certificate()`). Called once per
   * request. Without it the `trustedProxy` header is never believed and no certificate is known,
   * so certificate-bound tokens are refused. Default: none.
   */
  connection?: (c: Context) => WebConnection | undefined
}

/**
 * Creates Hono middleware that lets a request through only with a valid
 * `Authorization: Bearer <token>` (RFC 6750 §2.1) — or `Authorization: DPoP <token>` with its
 * `DPoP` proof (RFC 9449 §7), when the verifier accepts DPoP — carrying the required scopes. A refused
 * request gets the 400/401/403/503 answer directly (not an `HTTPException`, so an app's
 * `onError` cannot turn it into a 500 by accident); an unexpected (non-`BearerError`) failure is
 * thrown to `app.onError`. The raw request's `signal` is passed to `verify()`.
 *
 * With `resourceMetadata`, it answers `GET` of the RFC 9728 document itself wherever it sees that
 * path: mount it app-wide (`app.use('*', bearerAuth(…))`) or on the path.
 *
 * @throws {ConfigurationError} invalid options.
 */
export function bearerAuth(options: HonoBearerAuthOptions): MiddlewareHandler<BearerAuthEnv> {
  const settings = resolveBearerAuthOptions(options)
  const connection = options.connection
  if (connection !== undefined && typeof connection !== 'function') {
    throw new ConfigurationError(
      'bearer auth: connection must be a function (c) => ({ remoteAddress, clientCertificate })',
    )
  }
  return async (c, next) => {
    const request = c.req.raw
    if (isResourceMetadataRequest(settings.resourceMetadata, request.method, requestTarget(request))) {
      // Hono itself answers HEAD without the body.
      const { body, headers } = settings.resourceMetadata
      return c.body(body, 200, { ...headers })
    }
    const outcome = await authenticate(
      settings,
      webCredentials(request, settings, connection?.(c)),
      withSignal(settings.verifyOptions, request.signal),
    )
    if (outcome instanceof Challenge) {
      // c.body() keeps headers that earlier middleware set with c.header() (CORS, request ids).
      return c.body(outcome.body, outcome.status as ContentfulStatusCode, { ...outcome.headers })
    }
    c.set('auth', outcome)
    await next()
  }
}
