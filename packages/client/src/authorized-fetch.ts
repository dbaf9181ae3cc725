/**
 * `client.fetch`: undici's `fetch` that adds `Authorization: Bearer <token>` to requests for the
 * allowed origins (see `allowed-origins`), refuses to send such a request without a token, and
 * on a 401 whose `WWW-Authenticate` says `error="invalid_token"` drops that token and tries once
 * more with a new one when the body can be sent again.
 *
 * @module authorized-fetch
 */
import { fetch, Headers, Request, type RequestInfo, type RequestInit, type Response } from 'undici'
import { isInvalidTokenChallenge } from './bearer-challenge.js'
import { TokenUnavailableError } from './errors.js'
import { isReplayableBody } from './replayable-body.js'
import type { TokenSet } from './token-set.js'

/** What `fetch` and the interceptor need from the token client. */
export interface BearerSource {
  /** The current token for this use. */
  token(signal?: AbortSignal): Promise<TokenSet>
  /** Reports that a resource server rejected `accessToken`; it is dropped if still cached. */
  rejected(accessToken: string): void
}

/** A `fetch` with the signature of undici's. */
export type AuthorizedFetch = (input: RequestInfo, init?: RequestInit) => Promise<Response>

/** Gets a token, or fails with {@link TokenUnavailableError}: the request is then not sent. */
export async function bearerToken(
  source: BearerSource,
  origin: string,
  signal: AbortSignal | undefined,
): Promise<string> {
  try {
    return (await source.token(signal)).accessToken
  } catch (error) {
    if (signal?.aborted && error === signal.reason) throw error
    throw new TokenUnavailableError(origin, { cause: error })
  }
}

function requestUrl(input: RequestInfo): URL | undefined {
  if (input instanceof URL) return input
  const href = typeof input === 'string' ? input : (input as { url?: unknown }).url
  return typeof href === 'string' && URL.canParse(href) ? new URL(href) : undefined
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
 */
export function createAuthorizedFetch(
  source: BearerSource,
  allowed: ReadonlySet<string>,
  dispatcher: RequestInit['dispatcher'],
): AuthorizedFetch {
  return async function authorizedFetch(input, init = {}) {
    const options: RequestInit =
      dispatcher !== undefined && init.dispatcher === undefined ? { ...init, dispatcher } : init
    const url = requestUrl(input)
    if (url === undefined || !allowed.has(url.origin)) return fetch(input, options)
    const headers = new Headers(init.headers ?? (input instanceof Request ? input.headers : undefined))
    // The caller set its own credentials: that is a deliberate choice, sent as is.
    if (headers.has('authorization')) return fetch(input, options)
    const signal = init.signal ?? undefined
    const token = await bearerToken(source, url.origin, signal)
    headers.set('authorization', `Bearer ${token}`)
    const response = await fetch(input, { ...options, headers })
    if (response.status !== 401 || !isInvalidTokenChallenge(response.headers.get('www-authenticate'))) {
      return response
    }
    source.rejected(token)
    if (!isReplayable(input, init)) return response
    await response.body?.cancel()
    headers.set('authorization', `Bearer ${await bearerToken(source, url.origin, signal)}`)
    return fetch(input, { ...options, headers })
  }
}
