/**
 * Scaffolding, not the lesson. It starts on 127.0.0.1 (free ports) what a real deployment already
 * has: an authorization server that binds tokens to DPoP keys (and asks for nonces), and the
 * "payments" API whose verifier requires DPoP-bound tokens. With ISSUER set, the authorization
 * server and the API named by the environment are used instead.
 */
import { createServer, type ServerResponse } from 'node:http'
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

function json(res: ServerResponse, body: unknown): void {
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body))
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
  let handler: ((req: AuthenticatedRequest, res: ServerResponse) => void) | undefined
  const api = createServer((req, res) => handler?.(req as AuthenticatedRequest, res))
  await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve))
  const apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`

  const clientSecret = 'local-demo-secret'
  const authorizationServer = await createAuthorizationServer({
    clients: [
      {
        client_id: 'checkout-service',
        client_secret: clientSecret,
        scope: 'payments:write',
        // RFC 9449 §5.2: this client always uses DPoP; a token request without a proof is refused.
        dpop_bound_access_tokens: true,
      },
    ],
    resources: [{ resource: apiUrl }],
    // Server nonces (RFC 9449 §8): a proof must carry a nonce the server handed out recently.
    dpop: { nonce: true },
  })
  const { url: issuer } = await authorizationServer.listen({ port: 0, host: '127.0.0.1' })

  // The API takes DPoP-bound tokens only, each with a fresh proof by the token's key.
  const verifier = createVerifier({ issuer, audience: apiUrl, dpop: 'required' })
  const auth = bearerAuth({ verifier, requiredScopes: ['payments:write'] })
  handler = (req, res) => auth(req, res, () => json(res, { caller: req.auth.clientId }))

  return {
    issuer,
    clientId: 'checkout-service',
    clientSecret,
    apiUrl,
    async close() {
      await new Promise<void>((resolve) => {
        api.close(() => resolve())
        api.closeIdleConnections()
      })
      await authorizationServer.close()
      await verifier.close()
    },
  }
}
