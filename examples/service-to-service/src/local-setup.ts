/**
 * Scaffolding, not the lesson. It starts on 127.0.0.1 (free ports) what a real deployment already
 * has: an authorization server, the "inventory" API that accepts its tokens, and a third-party
 * service that must never see them. With ISSUER set, the authorization server and the API named
 * by the environment are used instead; only the third-party stand-in is still local.
 */
import { createServer, type RequestListener, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createAuthorizationServer } from '@oauth-m2m/server'
import { createVerifier } from '@oauth-m2m/verifier'
import { type AuthenticatedRequest, bearerAuth } from '@oauth-m2m/verifier/node'

/** Where the example's client finds its authorization server and the services it calls. */
export interface Deployment {
  issuer: string
  clientId: string
  clientSecret: string
  /** The protected API; also the RFC 8707 resource the token is requested for. */
  apiUrl: string
  /** A service of someone else, which answers whether it received an Authorization header. */
  thirdPartyUrl: string
  /** Stops whatever was started locally. */
  close(): Promise<void>
}

/** node:http on a free loopback port; the handler may be set after the URL is known. */
async function listen(handler?: RequestListener) {
  let current = handler
  const server = createServer((req, res) => current?.(req, res))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    setHandler: (next: RequestListener) => {
      current = next
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeIdleConnections()
      }),
  }
}

function json(res: ServerResponse, body: unknown): void {
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body))
}

const echoAuthorization: RequestListener = (req, res) =>
  json(res, { sawAuthorization: req.headers.authorization !== undefined })

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name]
  if (!value) throw new Error(`${name} must be set when ISSUER is`)
  return value
}

/** The environment's deployment when ISSUER is set, else a local one. */
export async function connect(env: NodeJS.ProcessEnv = process.env): Promise<Deployment> {
  if (env.ISSUER) {
    const settings = {
      issuer: env.ISSUER,
      clientId: required(env, 'CLIENT_ID'),
      clientSecret: required(env, 'CLIENT_SECRET'),
      apiUrl: required(env, 'API_URL'),
    }
    const thirdParty = await listen(echoAuthorization)
    return { ...settings, thirdPartyUrl: thirdParty.url, close: thirdParty.close }
  }

  // The API listens first: its URL is the resource indicator the authorization server must know.
  const api = await listen()
  const thirdParty = await listen(echoAuthorization)
  const clientSecret = 'local-demo-secret'
  const authorizationServer = await createAuthorizationServer({
    clients: [{ client_id: 'checkout-service', client_secret: clientSecret, scope: 'inventory:read' }],
    resources: [{ resource: api.url }],
  })
  const { url: issuer } = await authorizationServer.listen({ port: 0, host: '127.0.0.1' })
  const verifier = createVerifier({ issuer, audience: api.url })
  const auth = bearerAuth({ verifier, requiredScopes: ['inventory:read'] })
  api.setHandler((req, res) =>
    auth(req, res, () => json(res, { caller: (req as AuthenticatedRequest).auth.clientId })),
  )

  return {
    issuer,
    clientId: 'checkout-service',
    clientSecret,
    apiUrl: api.url,
    thirdPartyUrl: thirdParty.url,
    async close() {
      await Promise.all([api.close(), thirdParty.close(), authorizationServer.close()])
      await verifier.close()
    },
  }
}
