/**
 * HTTPS listeners on loopback that ask for client certificates (RFC 8705) and record what each
 * request presented: an authorization server stand-in (metadata, token endpoint) and a resource
 * server. The reference server has no TLS listener of its own yet, and these unit tests are about
 * what the client sends over TLS; the interop with a real mutual-TLS server (oidc-provider) is in
 * test/e2e/mtls-client-oidc-provider.test.ts.
 */
import { randomUUID } from 'node:crypto'
import { createServer, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import type { TLSSocket } from 'node:tls'
import type { TestPki } from '../../core/test/support/certificates.js'

/** One request a listener received. */
export interface SeenRequest {
  method: string
  path: string
  /** base64url SHA-256 thumbprint of the client certificate presented, if any. */
  thumbprint: string | undefined
  headers: Record<string, string | string[] | undefined>
  body: string
}

/** A running HTTPS listener asking for (not requiring) client certificates. */
export interface MtlsListener {
  /** `https://127.0.0.1:{port}` */
  origin: string
  seen: SeenRequest[]
  close(): Promise<void>
}

type Handler = (request: SeenRequest) => { status: number; json: unknown; headers?: Record<string, string> }

function thumbprintOf(socket: TLSSocket): string | undefined {
  const peer = socket.getPeerX509Certificate()
  return peer === undefined
    ? undefined
    : Buffer.from(peer.fingerprint256.replace(/:/g, ''), 'hex').toString('base64url')
}

/** Starts an HTTPS listener with the PKI's server certificate, trusting its CA for client certificates. */
export async function startMtlsListener(pki: TestPki, handler: Handler): Promise<MtlsListener> {
  const seen: SeenRequest[] = []
  const server: Server = createServer(
    {
      key: pki.server.keyPem,
      cert: pki.server.pem,
      ca: [pki.ca.pem],
      requestCert: true,
      rejectUnauthorized: false,
    },
    (req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (chunk: Buffer) => chunks.push(chunk))
      req.on('end', () => {
        const request: SeenRequest = {
          method: req.method ?? '',
          path: req.url ?? '',
          thumbprint: thumbprintOf(req.socket as TLSSocket),
          headers: req.headers,
          body: Buffer.concat(chunks).toString(),
        }
        seen.push(request)
        const { status, json, headers } = handler(request)
        res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(json))
      })
    },
  )
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    origin: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/** An authorization server stand-in: metadata at the RFC 8414 path, tokens at `/token`. */
export interface MtlsAuthorizationServer {
  issuer: string
  /** The conventional listener (metadata and `/token`). */
  main: MtlsListener
  /** The RFC 8705 §5 alias listener (`/token` only). */
  alias: MtlsListener
  /** Metadata members merged over the defaults; set by a test before discovery. */
  metadata: Record<string, unknown>
  /** The token requests either listener received. */
  tokenRequests(): (SeenRequest & { listener: 'main' | 'alias' })[]
  close(): Promise<void>
}

function tokenAnswer(request: SeenRequest) {
  // A DPoP proof gets a DPoP token, as a DPoP-capable server answers.
  const dpop = typeof request.headers.dpop === 'string'
  return {
    status: 200,
    json: { access_token: `at-${randomUUID()}`, token_type: dpop ? 'DPoP' : 'Bearer', expires_in: 300 },
  }
}

/** Starts the stand-in; its metadata names `alias` under `mtls_endpoint_aliases` unless a test says otherwise. */
export async function startMtlsAuthorizationServer(pki: TestPki): Promise<MtlsAuthorizationServer> {
  let issuer = ''
  const state: { metadata: Record<string, unknown> } = { metadata: {} }
  const alias = await startMtlsListener(pki, (request) =>
    request.path === '/token' ? tokenAnswer(request) : { status: 404, json: { error: 'not_found' } },
  )
  const main = await startMtlsListener(pki, (request) => {
    if (request.method === 'GET' && request.path === '/.well-known/oauth-authorization-server') {
      return {
        status: 200,
        json: {
          issuer,
          token_endpoint: `${issuer}/token`,
          mtls_endpoint_aliases: { token_endpoint: `${alias.origin}/token` },
          ...state.metadata,
        },
      }
    }
    if (request.method === 'POST' && request.path === '/token') return tokenAnswer(request)
    return { status: 404, json: { error: 'not_found' } }
  })
  issuer = main.origin
  return {
    issuer,
    main,
    alias,
    get metadata() {
      return state.metadata
    },
    set metadata(value) {
      state.metadata = value
    },
    tokenRequests: () => [
      ...main.seen.filter((s) => s.path === '/token').map((s) => ({ ...s, listener: 'main' as const })),
      ...alias.seen.filter((s) => s.path === '/token').map((s) => ({ ...s, listener: 'alias' as const })),
    ],
    close: async () => {
      await Promise.all([main.close(), alias.close()])
    },
  }
}
