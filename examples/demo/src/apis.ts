/**
 * The two protected APIs. inventory-api checks JWT access tokens locally (keys from the issuer's
 * JWKS); billing-api receives opaque tokens and asks the authorization server about them (RFC 7662
 * introspection). Both answer refusals per RFC 6750 through the verifier's node:http middleware.
 *
 * @module apis
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { clientSecretBasic } from '@oauth-m2m/core'
import { createVerifier, type Principal, type Verifier } from '@oauth-m2m/verifier'
import { bearerAuth } from '@oauth-m2m/verifier/node'
import { type DemoCredentials, SCOPES } from './config.js'
import { bearerJwtHeader } from './jwt-view.js'
import type { LoopbackServer } from './loopback-server.js'

/** What an API reports about each request it accepted. */
export interface AcceptedRequest {
  api: string
  method: string
  path: string
  principal: Principal
  /** The JWT header, when the token was a JWT. */
  jwtHeader: Record<string, unknown> | undefined
}

interface Route {
  method: string
  path: string
  scope: string
  answer(principal: Principal): { status: number; body: unknown }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) })
  res.end(payload)
}

function serveRoutes(
  name: string,
  server: LoopbackServer,
  verifier: Verifier,
  routes: readonly Route[],
  onAccepted: (request: AcceptedRequest) => void,
): void {
  const auth = bearerAuth({ verifier, realm: name })
  server.serve((req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', server.url).pathname
    const route = routes.find((r) => r.method === req.method && r.path === path)
    if (route === undefined) {
      sendJson(res, 404, { error: 'not_found' })
      return
    }
    auth.authenticate(req, res, { requiredScopes: [route.scope] }).then(
      (principal) => {
        if (principal === undefined) return // refused with 401/403/503 by the middleware
        const jwtHeader = bearerJwtHeader(req.headers.authorization)
        onAccepted({ api: name, method: route.method, path, principal, jwtHeader })
        const { status, body } = route.answer(principal)
        sendJson(res, status, body)
      },
      () => sendJson(res, 500, { error: 'server_error' }),
    )
  })
}

/** The running APIs and their verifiers, closed together. */
export interface DemoApis {
  close(): Promise<void>
}

/** Everything the APIs need to know. */
export interface ApiSettings {
  issuer: string
  inventory: LoopbackServer
  billing: LoopbackServer
  billingIntrospection: DemoCredentials
  onAccepted: (request: AcceptedRequest) => void
}

/** Starts answering on both API servers. */
export function serveApis(settings: ApiSettings): DemoApis {
  const { issuer, inventory, billing, onAccepted } = settings
  const inventoryVerifier = createVerifier({ issuer, audience: inventory.url })
  const billingVerifier = createVerifier({
    issuer,
    audience: billing.url,
    introspection: {
      clientId: settings.billingIntrospection.clientId,
      auth: clientSecretBasic(settings.billingIntrospection.clientSecret),
    },
  })
  let reservations = 0
  let charges = 0
  serveRoutes(
    'inventory-api',
    inventory,
    inventoryVerifier,
    [
      {
        method: 'GET',
        path: '/items',
        scope: SCOPES.readStock,
        answer: () => ({
          status: 200,
          body: {
            items: [
              { sku: 'mug-blue', inStock: 12 },
              { sku: 'tee-m', inStock: 3 },
            ],
          },
        }),
      },
      {
        method: 'POST',
        path: '/reservations',
        scope: SCOPES.reserveStock,
        answer: (principal) => ({
          status: 201,
          body: { reservationId: `r-${++reservations}`, reservedFor: principal.clientId },
        }),
      },
    ],
    onAccepted,
  )
  serveRoutes(
    'billing-api',
    billing,
    billingVerifier,
    [
      {
        method: 'POST',
        path: '/charges',
        scope: SCOPES.charge,
        answer: (principal) => ({
          status: 201,
          body: { chargeId: `ch-${++charges}`, chargedBy: principal.clientId },
        }),
      },
    ],
    onAccepted,
  )
  return {
    async close() {
      await Promise.all([inventoryVerifier.close(), billingVerifier.close()])
    },
  }
}
