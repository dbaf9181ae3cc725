/**
 * Reading credentials from, and answering with, web-standard `Request`/`Response` objects: shared
 * by the fetch and Hono adapters.
 *
 * @module middleware/web-request
 */
import type { BearerCredentials } from './bearer-token.js'
import type { Challenge } from './challenge.js'

/**
 * The credentials a web `Request` carries. `Headers` joins repeated `Authorization` lines with
 * `, `, which can never be one b64token, so several credentials still end in `invalid_request`.
 */
export function webCredentials(request: Request): BearerCredentials {
  const url = request.url
  const mark = url.indexOf('?')
  return {
    authorization: request.headers.get('authorization'),
    query: mark === -1 ? undefined : url.slice(mark + 1),
  }
}

/** `challenge` as a `Response`. */
export function challengeResponse(challenge: Challenge): Response {
  return new Response(challenge.body, { status: challenge.status, headers: challenge.headers })
}
