/**
 * Scaffolding, not the lesson. It starts on 127.0.0.1 (free ports) what a real deployment already
 * has: a PKI (made here at start, see `throwaway-pki.ts`), an authorization server that
 * authenticates the client by its certificate and binds its tokens to it, and the "orders" API over
 * HTTPS, which asks callers for a certificate. With ISSUER set, the servers and the certificate
 * files named by the environment are used instead.
 */
import { readFileSync } from 'node:fs'
import type { ServerResponse } from 'node:http'
import { createServer, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import type { TLSSocket } from 'node:tls'
import { createAuthorizationServer } from '@oauth-m2m/server'
import { createVerifier, type Verifier } from '@oauth-m2m/verifier'
import { Agent } from 'undici'
import { throwawayPki } from './throwaway-pki.js'

/** Where the example's client finds its authorization server, its certificate and the API. */
export interface Deployment {
  issuer: string
  clientId: string
  /** The client certificate and its private key, PEM. */
  cert: string
  key: string
  /** CA certificates (PEM) the client trusts for the servers, besides Node's roots. */
  ca: string | undefined
  /** The protected API; also the RFC 8707 resource the token is requested for. */
  apiUrl: string
  /** Stops whatever was started locally. */
  close(): Promise<void>
}

const CLIENT_URI = 'spiffe://example.org/ns/shop/sa/orders-service'

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name]
  if (!value) throw new Error(`${name} must be set when ISSUER is`)
  return value
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body))
}

/** The environment's deployment when ISSUER is set, else a local one. */
export async function connect(env: NodeJS.ProcessEnv = process.env): Promise<Deployment> {
  if (env.ISSUER) {
    return {
      issuer: env.ISSUER,
      clientId: required(env, 'CLIENT_ID'),
      cert: readFileSync(required(env, 'CLIENT_CERT'), 'utf8'),
      key: readFileSync(required(env, 'CLIENT_KEY'), 'utf8'),
      ca: env.CA_FILE ? readFileSync(env.CA_FILE, 'utf8') : undefined,
      apiUrl: required(env, 'API_URL'),
      close: async () => {},
    }
  }

  const pki = await throwawayPki(CLIENT_URI)

  // The API listens first: its URL is the resource indicator the authorization server must know.
  // It asks for a client certificate (and lets the token decide whether one was needed).
  let handler: ((token: string | undefined, socket: TLSSocket, res: ServerResponse) => void) | undefined
  const api: Server = createServer(
    { key: pki.server.key, cert: pki.server.cert, requestCert: true, rejectUnauthorized: false },
    (req, res) => {
      const header = req.headers.authorization
      handler?.(header?.startsWith('Bearer ') ? header.slice(7) : undefined, req.socket as TLSSocket, res)
    },
  )
  await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve))
  const apiUrl = `https://127.0.0.1:${(api.address() as AddressInfo).port}`

  const authorizationServer = await createAuthorizationServer({
    clients: [
      {
        client_id: 'orders-service',
        // RFC 8705 §2.1: no secret; the certificate authenticates the client, by its URI SAN.
        token_endpoint_auth_method: 'tls_client_auth',
        tls_client_auth_san_uri: CLIENT_URI,
        // RFC 8705 §3: its tokens carry cnf["x5t#S256"], the thumbprint of that certificate.
        tls_client_certificate_bound_access_tokens: true,
        scope: 'orders:read',
      },
    ],
    resources: [{ resource: apiUrl }],
    // The CA that issues client certificates: tls_client_auth trusts it, and only it.
    mtls: { ca: pki.ca },
  })
  const { url: issuer } = await authorizationServer.listen({
    port: 0,
    host: '127.0.0.1',
    tls: { key: pki.server.key, cert: pki.server.cert },
  })

  // The API's verifier reads the issuer's metadata and keys over HTTPS, trusting the internal CA.
  const dispatcher = new Agent({ connect: { ca: pki.ca } })
  const verifier: Verifier = createVerifier({ issuer, audience: apiUrl, dispatcher })
  handler = (token, socket, res) => {
    if (token === undefined) return send(res, 401, { error: 'invalid_request' })
    // RFC 8705 §3: a certificate-bound token is accepted only with the certificate it names, the
    // one this connection presented (the verifier compares it with cnf["x5t#S256"]).
    const clientCertificate = socket.getPeerX509Certificate()
    verifier
      .verify(token, { requiredScopes: ['orders:read'], ...(clientCertificate ? { clientCertificate } : {}) })
      .then(
        (principal) => send(res, 200, { caller: principal.clientId }),
        () => send(res, 401, { error: 'invalid_token' }),
      )
  }

  return {
    issuer,
    clientId: 'orders-service',
    cert: pki.client.cert,
    key: pki.client.key,
    ca: pki.ca,
    apiUrl,
    async close() {
      await new Promise<void>((resolve) => {
        api.close(() => resolve())
        api.closeAllConnections()
      })
      await authorizationServer.close()
      await verifier.close()
      await dispatcher.close()
    },
  }
}
