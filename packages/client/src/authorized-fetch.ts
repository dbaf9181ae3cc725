/**
 * `client.fetch`: undici's `fetch` that adds the token to requests for the allowed origins (see
 * `allowed-origins`) — `Authorization: Bearer <token>`, or `Authorization: DPoP <token>` with a
 * fresh proof (see `resource-credentials`) — and refuses to send such a request without a token.
 * Two answers make it send the request once more, each at most once and only when the body can
 * be sent again: a 401 whose `WWW-Authenticate` says `error="invalid_token"` (the token is dropped
 * and a new one fetched), and for a DPoP token a 401 `DPoP error="use_dpop_nonce"` with a
 * `DPoP-Nonce` (a new proof carries the nonce). A `DPoP-Nonce` on any answer is remembered for the
 * origin. A mutual-TLS client's requests to the allowed origins go through the `Agent` presenting its
 * certificate (a certificate-bound token is accepted only over such a connection, RFC 8705 §3);
 * other origins never see the certificate.
 *
 * @module authorized-fetch
 */
import {
  type Dispatcher,
  fetch,
  Headers,
  Request,
  type RequestInfo,
  type RequestInit,
  type Response,
} from 'undici'
import { isInvalidTokenChallenge, isUseDpopNonceChallenge } from './bearer-challenge.js'
import { isReplayableBody } from './replayable-body.js'
import { type AccessTokenSource, credentialsFor, sendsDpop, tokenForRequest } from './resource-credentials.js'

/** A `fetch` with the signature of undici's. */
export type AuthorizedFetch = (input: RequestInfo, init?: RequestInit) => Promise<Response>

function requestUrl(input: RequestInfo): URL | undefined {
  if (input instanceof URL) return input
  const href = typeof input === 'string' ? input : (input as { url?: unknown }).url
  return typeof href === 'string' && URL.canParse(href) ? new URL(href) : undefined
}

/** The methods fetch upper-cases whatever their case (Fetch standard, "normalize a method"). */
const NORMALIZED_METHODS = new Set(['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT'])

/** The method the request goes out with, as the proof's `htm` must name it. */
function requestMethod(input: RequestInfo, init: RequestInit): string {
  const method = init.method ?? (input instanceof Request ? input.method : 'GET')
  const upper = method.toUpperCase()
  return NORMALIZED_METHODS.has(upper) ? upper : method
}

/** Whether the request can be sent again: a replayable body, or none (also not in a `Request`). */
function isReplayable(input: RequestInfo, init: RequestInit): boolean {
  if (init.body === undefined) return !(input instanceof Request) || input.body === null
  return isReplayableBody(init.body)
}

/**
 * Builds `client.fetch`.
 *
 * @param allowed Origins that get the token.
 * @param dispatcher Used unless the call passes its own.
 * @param certificateDispatcher For a mutual-TLS client without a `dispatcher` of its own: the
 *   `Agent` presenting its certificate, used for the allowed origins only, unless the call passes
 *   its own dispatcher.
 */
export function createAuthorizedFetch(
  source: AccessTokenSource,
  allowed: ReadonlySet<string>,
  dispatcher: Dispatcher | undefined,
  certificateDispatcher?: Dispatcher,
): AuthorizedFetch {
  return async function authorizedFetch(input, init = {}) {
    const url = requestUrl(input)
    const isAllowed = url !== undefined && allowed.has(url.origin)
    // The certificate tells a server who this client is: only the allowed origins get to see it.
    const chosen = (isAllowed ? certificateDispatcher : undefined) ?? dispatcher
    const options: RequestInit =
      chosen !== undefined && init.dispatcher === undefined ? { ...init, dispatcher: chosen } : init
    if (url === undefined || !isAllowed) return fetch(input, options)
    const headers = new Headers(init.headers ?? (input instanceof Request ? input.headers : undefined))
    // The caller set its own credentials: that is a deliberate choice, sent as is.
    if (headers.has('authorization')) return fetch(input, options)
    const signal = init.signal ?? undefined
    const method = requestMethod(input, init)
    const canReplay = isReplayable(input, init)
    const { dpop } = source
    let token = await tokenForRequest(source, url.origin, signal)
    let nonceRetried = false
    let tokenRetried = false
    for (;;) {
      const credentials = credentialsFor(token, dpop, method, url)
      headers.set('authorization', credentials.authorization)
      if (credentials.dpop !== undefined) headers.set('dpop', credentials.dpop)
      const response = await fetch(input, { ...options, headers })
      const challenge = response.status === 401 ? response.headers.get('www-authenticate') : null
      const sentDpop = sendsDpop(token, dpop)
      const nonce = dpop?.noteNonce('resource', url.origin, response.headers.get('dpop-nonce'))
      if (sentDpop && !nonceRetried && nonce !== undefined && isUseDpopNonceChallenge(challenge)) {
        if (!canReplay) return response
        nonceRetried = true
        await response.body?.cancel()
        continue
      }
      if (tokenRetried || !isInvalidTokenChallenge(challenge, { dpop: sentDpop })) return response
      source.rejected(token.accessToken)
      if (!canReplay) return response
      tokenRetried = true
      await response.body?.cancel()
      token = await tokenForRequest(source, url.origin, signal)
    }
  }
}
