/**
 * Scaffolding, not the lesson. It starts on 127.0.0.1 (free ports) what a real deployment already
 * has: an authorization server and the "inventory" API that accepts its tokens. With ISSUER set,
 * the authorization server and API named by the environment are used instead.
 */
import { createServer, type RequestListener } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createAuthorizationServer } from '@oauth-m2m/server'
import { createVerifier } from '@oauth-m2m/verifier'
import { type AuthenticatedRequest, bearerAuth } from '@oauth-m2m/verifier/node'

/** Where the example's client finds its authorization server and the API it calls. */
export interface Deployment {
  issuer: string
  clientId: string
  clientSecret: string
  /** The protected API; also the RFC 8707 resource the token is requested for. */
  apiUrl: string
  /** Stops whatever was started locally. */
  close(): Promise<void>
}

/** node:http on a free loopback port; the handler is set once the URL is known. */
async function listen() {
  let handler: RequestListener | undefined
  const server = createServer((req, res) => handler?.(req, res))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    setHandler: (next: RequestListener) => {
      handler = next
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeIdleConnections()
      }),
  }
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name]
  if (!value) throw new Error(`${name} must be set when ISSUER is`)
  return value
}

/** The environment's deployment when ISSUER is set, else a local one. */
export async function connect(env: NodeJS.ProcessEnv = process.env): Promise<Deployment> {
  if (env.ISSUER) {
    return {
      issuer: env.ISSUER,
      clientId: required(env, 'CLIENT_ID'),
      clientSecret: required(env, 'CLIENT_SECRET'),
      apiUrl: required(env, 'API_URL'),
      close: async () => {},
    }
  }

  // The API listens first: its URL is the resource indicator the authorization server must know.
  const api = await listen()
  const clientSecret = 'local-demo-secret'
  const authorizationServer = await createAuthorizationServer({
    clients: [{ client_id: 'reporting-job', client_secret: clientSecret, scope: 'inventory:read' }],
    resources: [{ resource: api.url }],
  })
  const { url: issuer } = await authorizationServer.listen({ port: 0, host: '127.0.0.1' })
  const verifier = createVerifier({ issuer, audience: api.url })
  const auth = bearerAuth({ verifier, requiredScopes: ['inventory:read'] })
  api.setHandler((req, res) =>
    auth(req, res, () => {
      const caller = (req as AuthenticatedRequest).auth.clientId
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ caller }))
    }),
  )

  return {
    issuer,
    clientId: 'reporting-job',
    clientSecret,
    apiUrl: api.url,
    async close() {
      await Promise.all([api.close(), authorizationServer.close()])
      await verifier.close()
    },
  }
}
