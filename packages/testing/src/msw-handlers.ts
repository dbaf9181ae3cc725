/**
 * msw request handlers that answer for the reference authorization server in process, through
 * its web `handle(Request)` adapter: discovery, JWKS, token, introspection and revocation with no
 * port. For a test server they take the same request path as its real port (request log,
 * injected failures, profile rules). Works with msw's `setupServer` (global fetch) and with
 * `createMswDispatcher` (undici).
 *
 * @module msw-handlers
 */
import { ConfigurationError } from '@oauth-m2m/core'
import type { AuthorizationServer } from '@oauth-m2m/server'
import { http, type RequestHandler } from 'msw'
import { routerOf } from './request-router.js'
import type { TestAuthorizationServer } from './test-authorization-server.js'

const WELL_KNOWN = '/.well-known/'

function issuerOf(server: AuthorizationServer): string {
  try {
    return server.issuer
  } catch (cause) {
    throw new ConfigurationError(
      'authorizationServerHandlers: the server needs a configured issuer (createAuthorizationServer({ issuer, … }) or createTestAuthorizationServer())',
      { cause },
    )
  }
}

/**
 * Handlers that send every request for the server's issuer to the server.
 *
 * - A test server (`createTestAuthorizationServer()`, `startAuthorizationServer()`): its
 *   endpoints (wherever its metadata puts them) and any path under its issuer, through the same
 *   path as its real port: the request is logged in `as.requests`, and `as.failNext()` /
 *   `as.outage()` apply. A reset becomes msw's network error.
 * - An `AuthorizationServer`: requests under the issuer's path and the well-known documents at
 *   its origin, straight to `server.handle()`.
 *
 * Other requests fall through to later handlers.
 *
 * @param server A server from `createTestAuthorizationServer()` / `startAuthorizationServer()`,
 *   or one from `createAuthorizationServer()` with an `issuer` configured.
 * @throws {ConfigurationError} when the server's issuer is not known yet.
 */
export function authorizationServerHandlers(
  server: AuthorizationServer | TestAuthorizationServer,
): RequestHandler[] {
  const router = routerOf(server)
  if (router !== undefined) {
    return [
      http.all('*', ({ request }) =>
        router.owns(new URL(request.url)) ? router.handle(request) : undefined,
      ),
    ]
  }
  const target = 'handle' in server ? server : server.server
  const issuer = new URL(issuerOf(target))
  const basePath = issuer.pathname.replace(/\/$/, '')
  return [
    http.all(`${issuer.origin}/*`, ({ request }) => {
      const path = new URL(request.url).pathname
      const ours = path.startsWith(WELL_KNOWN) || path === basePath || path.startsWith(`${basePath}/`)
      return ours ? target.handle(request) : undefined
    }),
  ]
}
