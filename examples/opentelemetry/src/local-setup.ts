/**
 * Scaffolding, not the lesson. It starts on 127.0.0.1 (free ports) what a deployment already has:
 * the reference authorization server and a "reports" API
 * that accepts its tokens: `GET /reports` needs `reports:read`, `DELETE /reports` needs
 * `reports:admin`.
 */
import { createServer, type RequestListener } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createAuthorizationServer } from '@oauth-m2m/server'
import { createVerifier } from '@oauth-m2m/verifier'
import { bearerAuth } from '@oauth-m2m/verifier/node'

/** What the example's client talks to. */
export interface Deployment {
  issuer: string
  clientId: string
  clientSecret: string
  /** The protected API; also the token's RFC 8707 resource. */
  apiUrl: string
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

/** Starts the authorization server and the API. */
export async function startDeployment(): Promise<Deployment> {
  const api = await listen()
  const clientSecret = 'local-demo-secret'
  const authorizationServer = await createAuthorizationServer({
    clients: [{ client_id: 'report-builder', client_secret: clientSecret, scope: 'reports:read' }],
    resources: [{ resource: api.url }],
  })
  const { url: issuer } = await authorizationServer.listen({ port: 0, host: '127.0.0.1' })
  const verifier = createVerifier({ issuer, audience: api.url })
  const read = bearerAuth({ verifier, requiredScopes: ['reports:read'] })
  const admin = bearerAuth({ verifier, requiredScopes: ['reports:admin'] })
  api.setHandler((req, res) => {
    const guard = req.method === 'DELETE' ? admin : read
    guard(req, res, () => {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"reports":[]}')
    })
  })

  return {
    issuer,
    clientId: 'report-builder',
    clientSecret,
    apiUrl: api.url,
    async close() {
      await Promise.all([api.close(), authorizationServer.close()])
      await verifier.close()
    },
  }
}
