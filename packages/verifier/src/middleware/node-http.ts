/**
 * Reading credentials from, and writing refusals to, node's own request and response objects:
 * shared by the node:http and Express adapters.
 *
 * @module middleware/node-http
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { TLSSocket } from 'node:tls'
import { type BearerCredentials, countAuthorizationHeaders, countDpopHeaders } from './bearer-token.js'
import type { Challenge } from './challenge.js'
import { nodeClientCertificate } from './client-certificate.js'
import type { BearerAuthSettings } from './options.js'
import { dpopRequestUrl, originOf } from './request-url.js'
import type { ResourceMetadataSettings } from './resource-metadata.js'

/** How an adapter on node's request object knows its URL (for DPoP). */
export interface NodeRequestUrl {
  /** The request target as the client sent it (Express: `req.originalUrl`). */
  target: string | undefined
  /** `scheme://host[:port]` as the framework knows it; `undefined` when it has none. */
  origin: string | undefined
}

/** node:http's own idea of the URL: `https` on a TLS socket, the `Host` header, `req.url`. */
export function socketUrl(req: IncomingMessage): NodeRequestUrl {
  return {
    target: req.url,
    origin: originOf((req.socket as TLSSocket).encrypted ? 'https' : 'http', req.headers.host),
  }
}

// Only a request whose Authorization header may hold the DPoP scheme needs its URL: the check
// keeps the bearer hot path free of a closure per request.
function mayBeDpop(authorization: string | undefined): boolean {
  return authorization !== undefined && (authorization.charCodeAt(0) | 0x20) === 0x64 /* d */
}

/**
 * The credentials a node request carries. `bodyHasToken` is for adapters that parsed a body;
 * `urlOf` says how the adapter's framework gives the request's URL (read for DPoP requests only).
 */
export function nodeCredentials<R extends IncomingMessage>(
  req: R,
  settings: BearerAuthSettings,
  bodyHasToken = false,
  urlOf: (req: R) => NodeRequestUrl = socketUrl,
): BearerCredentials {
  const authorization = req.headers.authorization
  const target = req.url ?? ''
  const mark = target.indexOf('?')
  const credentials: BearerCredentials = {
    authorization,
    // node keeps only the first of duplicate Authorization headers; the raw list shows them all.
    authorizationCount: authorization === undefined ? 0 : countAuthorizationHeaders(req.rawHeaders),
    query: mark === -1 ? undefined : target.slice(mark + 1),
    bodyHasToken,
  }
  // A plain connection with no proxy trusted has no certificate: nothing to read.
  if (settings.trustedProxy !== undefined || (req.socket as TLSSocket).encrypted === true) {
    credentials.clientCertificate = nodeClientCertificate(req, settings.trustedProxy)
  }
  if (mayBeDpop(authorization)) {
    const dpop = req.headers.dpop
    credentials.dpop = typeof dpop === 'string' ? dpop : undefined
    // node joins duplicates of a header it does not know with ", "; the raw list counts them.
    credentials.dpopCount = dpop === undefined ? 0 : countDpopHeaders(req.rawHeaders)
    credentials.method = req.method
    credentials.url = () => {
      const { target: requestTarget, origin } = urlOf(req)
      return dpopRequestUrl(requestTarget, () => origin, settings.publicBaseUrl)
    }
  }
  return credentials
}

/** Sends the RFC 9728 metadata document (node leaves the body out of an answer to HEAD). */
export function writeResourceMetadata(res: ServerResponse, metadata: ResourceMetadataSettings): void {
  writeChallenge(res, { status: 200, headers: metadata.headers, body: metadata.body })
}

/** Sends `challenge` (or another ready answer of the same shape) as the whole response. */
export function writeChallenge(res: ServerResponse, challenge: Challenge): void {
  if (res.headersSent) {
    res.end()
    return
  }
  res.writeHead(challenge.status, {
    ...challenge.headers,
    'Content-Length': Buffer.byteLength(challenge.body),
  })
  res.end(challenge.body)
}

const SERVER_ERROR = JSON.stringify({ error: 'server_error' })

/** A 500 without any detail, for an unexpected failure when no `next` can take the error. */
export function writeServerError(res: ServerResponse): void {
  if (res.headersSent) {
    res.end()
    return
  }
  res.writeHead(500, {
    'Content-Type': 'application/json',
    'Cache-Control': 'no-store',
    'Content-Length': Buffer.byteLength(SERVER_ERROR),
  })
  res.end(SERVER_ERROR)
}
