/**
 * The world the tests run against: the real reference authorization server on a loopback port,
 * and a front for it that answers the first token requests with what a real server does not do on
 * demand (503, 429 with Retry-After) before passing requests through.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type AuthorizationServer, type ClientMetadata, createAuthorizationServer } from '@oauth-m2m/server'

export const CLIENT_ID = 'svc-telemetry'
export const CLIENT_SECRET = 'telemetry-secret-do-not-record'
export const API_CLIENT_ID = 'api-introspecting'
export const API_SECRET = 'api-secret-do-not-record'
export const API = 'https://api.example.com'
export const OPAQUE_API = 'https://opaque.example.com'

export interface ReferenceServer {
  server: AuthorizationServer
  issuer: string
  close(): Promise<void>
}

/** The reference server with a client for tokens and one for introspection; JWTs for API, opaque for OPAQUE_API. */
export async function startReferenceServer(moreClients: ClientMetadata[] = []): Promise<ReferenceServer> {
  const server = await createAuthorizationServer({
    clients: [
      { client_id: CLIENT_ID, client_secret: CLIENT_SECRET, scope: 'read write' },
      { client_id: API_CLIENT_ID, client_secret: API_SECRET, scope: 'read' },
      ...moreClients,
    ],
    resources: [{ resource: API }, { resource: OPAQUE_API, tokenFormat: 'opaque' }],
  })
  const { url, close } = await server.listen({ port: 0, host: '127.0.0.1' })
  return { server, issuer: url, close }
}

/** One scripted answer of the front: status and headers, with an OAuth error body. */
export interface ScriptedAnswer {
  status: number
  headers?: Record<string, string>
}

export interface FlakyFront {
  /** Token endpoint of the front. */
  tokenEndpoint: string
  /** Token requests the front received. */
  tokenRequests(): number
  close(): Promise<void>
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

/** A front for `issuer` whose first token requests get `script`'s answers, the rest the real ones. */
export async function startFlakyFront(issuer: string, script: ScriptedAnswer[]): Promise<FlakyFront> {
  const answers = [...script]
  let tokenRequests = 0
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const body = await readBody(req)
    tokenRequests++
    const scripted = answers.shift()
    if (scripted !== undefined) {
      res
        .writeHead(scripted.status, { 'content-type': 'application/json', ...scripted.headers })
        .end(JSON.stringify({ error: 'temporarily_unavailable' }))
      return
    }
    const upstream = await fetch(`${issuer}/token`, {
      method: 'POST',
      headers: {
        'content-type': req.headers['content-type'] ?? '',
        authorization: req.headers.authorization ?? '',
      },
      body,
    })
    res
      .writeHead(upstream.status, {
        'content-type': upstream.headers.get('content-type') ?? 'application/json',
      })
      .end(Buffer.from(await upstream.arrayBuffer()))
  }
  const front: Server = createServer((req, res) => {
    handle(req, res).catch(() => res.writeHead(502).end())
  })
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve))
  const { port } = front.address() as AddressInfo
  return {
    tokenEndpoint: `http://127.0.0.1:${port}/token`,
    tokenRequests: () => tokenRequests,
    close: () =>
      new Promise<void>((resolve) => {
        front.close(() => resolve())
        front.closeAllConnections()
      }),
  }
}
