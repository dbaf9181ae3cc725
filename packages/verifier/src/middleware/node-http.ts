/**
 * Reading credentials from, and writing refusals to, node's own request and response objects:
 * shared by the node:http and Express adapters.
 *
 * @module middleware/node-http
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { type BearerCredentials, countAuthorizationHeaders } from './bearer-token.js'
import type { Challenge } from './challenge.js'
import type { ResourceMetadataSettings } from './resource-metadata.js'

/** The credentials a node request carries. `bodyHasToken` is for adapters that parsed a body. */
export function nodeCredentials(req: IncomingMessage, bodyHasToken = false): BearerCredentials {
  const authorization = req.headers.authorization
  const url = req.url ?? ''
  const mark = url.indexOf('?')
  return {
    authorization,
    // node keeps only the first of duplicate Authorization headers; the raw list shows them all.
    authorizationCount: authorization === undefined ? 0 : countAuthorizationHeaders(req.rawHeaders),
    query: mark === -1 ? undefined : url.slice(mark + 1),
    bodyHasToken,
  }
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
