/**
 * A stand-in authorization server on 127.0.0.1 that a test fully controls: its metadata
 * (RFC 8414), its JWKS (which keys, whether it is down, a delay) and its introspection answers,
 * counting every request. Used where the test needs what the reference server will not do on
 * demand: outages, slow answers, malformed or hostile answers.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { JWK } from 'jose'

export interface IntrospectionCall {
  /** The decoded form body. */
  form: URLSearchParams
  /** The Authorization header. */
  authorization: string | undefined
  contentType: string | undefined
}

/** What an introspection handler answers: a status and a JSON body; `undefined` never answers. */
export type IntrospectionReply = { status?: number; body: unknown; delayMs?: number } | undefined

/**
 * How the metadata endpoint fails: a status for both well-known URLs (a 404 sends discovery on to
 * the OpenID Connect fallback, which 404s too), or `hang` to accept requests and never answer.
 */
export type MetadataFailure = 500 | 404 | 'hang'

export interface TestIssuer {
  /** The issuer identifier (`http://127.0.0.1:<port>`). */
  issuer: string
  jwksUri: string
  introspectionEndpoint: string
  /**
   * Requests to each route so far; `metadata` is the RFC 8414 well-known URL, `openidConfiguration`
   * the OpenID Connect fallback.
   */
  readonly counts: { metadata: number; openidConfiguration: number; jwks: number; introspection: number }
  /** Replaces the published keys. */
  setKeys(keys: JWK[]): void
  /** When true, the JWKS route answers 503. */
  setJwksDown(down: boolean): void
  /** Delay before the JWKS route answers, in milliseconds. */
  setJwksDelay(ms: number): void
  /** Extra or overriding members of the metadata document. */
  setMetadata(extra: Record<string, unknown>): void
  /** Makes the metadata endpoint fail as described, or answer again with `undefined`. */
  setMetadataFailure(failure: MetadataFailure | undefined): void
  /** Decides each introspection answer. Default: `{ active: false }`. */
  onIntrospect(handler: (call: IntrospectionCall) => IntrospectionReply): void
  close(): Promise<void>
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export async function startTestIssuer(keys: JWK[] = []): Promise<TestIssuer> {
  let published = keys
  let jwksDown = false
  let jwksDelayMs = 0
  let extraMetadata: Record<string, unknown> = {}
  let metadataFailure: MetadataFailure | undefined
  let introspect: (call: IntrospectionCall) => IntrospectionReply = () => ({ body: { active: false } })
  const counts = { metadata: 0, openidConfiguration: 0, jwks: 0, introspection: 0 }
  let issuer = ''

  const json = (res: import('node:http').ServerResponse, status: number, body: unknown) =>
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body))

  const server: Server = createServer(async (req, res) => {
    const path = new URL(req.url ?? '/', issuer).pathname
    if (path === '/.well-known/oauth-authorization-server') {
      counts.metadata++
      if (metadataFailure === 'hang') return
      if (metadataFailure !== undefined) {
        json(res, metadataFailure, { error: 'server_error' })
        return
      }
      json(res, 200, {
        issuer,
        jwks_uri: `${issuer}/jwks`,
        introspection_endpoint: `${issuer}/introspect`,
        token_endpoint: `${issuer}/token`,
        ...extraMetadata,
      })
    } else if (path === '/.well-known/openid-configuration') {
      counts.openidConfiguration++
      if (metadataFailure === 'hang') return
      json(res, metadataFailure ?? 404, { error: 'not_found' })
    } else if (path === '/jwks') {
      counts.jwks++
      if (jwksDelayMs > 0) await sleep(jwksDelayMs)
      if (jwksDown) json(res, 503, { error: 'temporarily_unavailable' })
      else json(res, 200, { keys: published })
    } else if (path === '/introspect' && req.method === 'POST') {
      counts.introspection++
      const form = new URLSearchParams(await readBody(req))
      const reply = introspect({
        form,
        authorization: req.headers.authorization,
        contentType: req.headers['content-type'],
      })
      if (reply === undefined) return // never answers: a hung endpoint
      if (reply.delayMs) await sleep(reply.delayMs)
      json(res, reply.status ?? 200, reply.body)
    } else {
      json(res, 404, { error: 'not_found' })
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    issuer,
    jwksUri: `${issuer}/jwks`,
    introspectionEndpoint: `${issuer}/introspect`,
    counts,
    setKeys: (next) => {
      published = next
    },
    setJwksDown: (down) => {
      jwksDown = down
    },
    setJwksDelay: (ms) => {
      jwksDelayMs = ms
    },
    setMetadata: (extra) => {
      extraMetadata = extra
    },
    setMetadataFailure: (failure) => {
      metadataFailure = failure
    },
    onIntrospect: (handler) => {
      introspect = handler
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections()
        server.close((err) => (err ? reject(err) : resolve()))
      }),
  }
}
