/**
 * Reading credentials from, and answering with, web-standard `Request`/`Response` objects: shared
 * by the fetch and Hono adapters.
 *
 * @module middleware/web-request
 */
import type { BearerCredentials } from './bearer-token.js'
import type { Challenge } from './challenge.js'
import { type WebConnection, webClientCertificate } from './client-certificate.js'
import type { BearerAuthSettings } from './options.js'
import { dpopRequestUrl } from './request-url.js'
import type { ResourceMetadataSettings } from './resource-metadata.js'

/**
 * The credentials a web `Request` carries. `Headers` joins repeated `Authorization` lines with
 * `, `, which can never be one b64token, so several credentials still end in `invalid_request`;
 * repeated `DPoP` lines are joined the same way, and a comma never occurs in one proof.
 * `connection` is what the host knows of the connection (peer address, TLS certificate).
 */
export function webCredentials(
  request: Request,
  settings: BearerAuthSettings,
  connection?: WebConnection,
): BearerCredentials {
  const url = request.url
  const mark = url.indexOf('?')
  return {
    clientCertificate: webClientCertificate(request, settings.trustedProxy, connection),
    authorization: request.headers.get('authorization'),
    query: mark === -1 ? undefined : url.slice(mark + 1),
    dpop: request.headers.get('dpop'),
    method: request.method,
    // `Request.url` is always absolute: the runtime built it (Hono on node: from the Host header).
    url: () => dpopRequestUrl(url, () => undefined, settings.publicBaseUrl),
  }
}

/** `challenge` as a `Response`. */
export function challengeResponse(challenge: Challenge): Response {
  return new Response(challenge.body, { status: challenge.status, headers: challenge.headers })
}

/** The RFC 9728 metadata document as a `Response`; without a body for `HEAD`. */
export function resourceMetadataResponse(metadata: ResourceMetadataSettings, method: string): Response {
  return new Response(method === 'HEAD' ? null : metadata.body, { status: 200, headers: metadata.headers })
}

/** The path and query of a `Request`'s URL (always absolute and normalised by `Request`). */
export function requestTarget(request: Request): string {
  const url = request.url
  const start = url.indexOf('/', url.indexOf('//') + 2)
  return start === -1 ? '/' : url.slice(start)
}
