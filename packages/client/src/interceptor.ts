/**
 * `client.interceptor()`: an undici interceptor for `Dispatcher.compose`, so that any undici-based
 * code gets tokens: `new Agent().compose(client.interceptor())`. Same rules as `client.fetch`:
 * only allowed origins get the token (Bearer, or DPoP with a fresh proof per send), a request that
 * should carry one is never sent without it, a 401 `invalid_token` answer drops the token and
 * replays the request once, and a 401 `DPoP error="use_dpop_nonce"` replays it once with a new
 * proof carrying the nonce — each only when the body can be sent again (none, string, bytes,
 * FormData, Blob; not a stream). For a mutual-TLS client (without a `dispatcher` of its own), the
 * requests to the allowed origins are dispatched through the `Agent` presenting its certificate
 * instead of the composed one, so that a certificate-bound token travels with its certificate
 * (RFC 8705 §3); requests to other origins go through the composed dispatcher, untouched.
 *
 * @module interceptor
 */
import type { IncomingHttpHeaders } from 'node:http'
import type { Dispatcher } from 'undici'
import { isInvalidTokenChallenge, isUseDpopNonceChallenge } from './bearer-challenge.js'
import { isReplayableBody } from './replayable-body.js'
import { type AccessTokenSource, credentialsFor, sendsDpop, tokenForRequest } from './resource-credentials.js'
import type { TokenSet } from './token-set.js'

type Headers = Record<string, string | string[] | undefined>

/** The dispatch headers as a plain record, whatever form undici was given them in. */
function headerRecord(headers: Dispatcher.DispatchOptions['headers']): Headers {
  if (headers === null || headers === undefined) return {}
  const out: Headers = {}
  if (Array.isArray(headers)) {
    for (let i = 0; i + 1 < headers.length; i += 2) {
      const name = String(headers[i])
      const value = String(headers[i + 1])
      const prior = out[name]
      out[name] = prior === undefined ? value : Array.isArray(prior) ? [...prior, value] : [prior, value]
    }
    return out
  }
  if (typeof (headers as Iterable<unknown>)[Symbol.iterator] === 'function') {
    for (const [name, value] of headers as Iterable<[string, string | string[] | undefined]>)
      out[name] = value
    return out
  }
  return { ...(headers as Headers) }
}

function hasAuthorization(headers: Headers): boolean {
  for (const name of Object.keys(headers)) {
    if (name.toLowerCase() === 'authorization' && headers[name] !== undefined) return true
  }
  return false
}

/**
 * The caller's AbortSignal: undici's `request`, `stream` and `pipeline` pass their options, signal
 * included, through to `dispatch`. Without it an abort would wait for the token to arrive.
 */
function signalOf(options: Dispatcher.DispatchOptions): AbortSignal | undefined {
  const signal = (options as { signal?: unknown }).signal
  return signal instanceof AbortSignal ? signal : undefined
}

function originOf(origin: Dispatcher.DispatchOptions['origin']): string | undefined {
  if (origin === undefined) return undefined
  if (origin instanceof URL) return origin.origin
  return URL.canParse(origin) ? new URL(origin).origin : undefined
}

/** What a {@link TokenHandler} needs: where the request goes, how to send it again, and with what. */
interface TokenHandlerOptions {
  /** The caller's handler, which gets every answer but a swallowed 401. */
  handler: Dispatcher.DispatchHandler
  /** Sends the request with `token` (and a new proof for a DPoP token), answering to `handler`. */
  send: (token: TokenSet, handler: Dispatcher.DispatchHandler) => void
  source: AccessTokenSource
  /** Origin of the request, for a `TokenUnavailableError` and the origin's DPoP nonce. */
  origin: string
  /** The caller's signal, which stops the wait for a new token. */
  signal: AbortSignal | undefined
  /** The token the request is sent with. */
  token: TokenSet
  /** Whether the body can be sent a second time. */
  canReplay: boolean
}

/** Why a 401 answer is swallowed: the request is sent again, with a new token or a new nonce. */
type Replay = 'new-token' | 'new-nonce'

/**
 * Passes a response through, except a 401 that one more send can fix: `invalid_token` (that
 * token is reported, and a new one fetched) or, after a DPoP proof, `use_dpop_nonce` with a
 * nonce. When the request can be replayed, such a response is swallowed and the request sent
 * again, at most once for each reason. A `DPoP-Nonce` on any answer is remembered.
 */
class TokenHandler implements Dispatcher.DispatchHandler {
  readonly #handler: Dispatcher.DispatchHandler
  readonly #send: (token: TokenSet, handler: Dispatcher.DispatchHandler) => void
  readonly #source: AccessTokenSource
  readonly #origin: string
  readonly #signal: AbortSignal | undefined
  readonly #canReplay: boolean
  #token: TokenSet
  #tokenReplayed = false
  #nonceReplayed = false
  #replay: Replay | undefined

  constructor({ handler, send, source, origin, signal, token, canReplay }: TokenHandlerOptions) {
    this.#handler = handler
    this.#send = send
    this.#source = source
    this.#origin = origin
    this.#signal = signal
    this.#token = token
    this.#canReplay = canReplay
  }

  onRequestStart(controller: Dispatcher.DispatchController, context: unknown): void {
    this.#handler.onRequestStart?.(controller, context)
  }

  onRequestUpgrade(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: IncomingHttpHeaders,
    socket: import('node:stream').Duplex,
  ): void {
    this.#handler.onRequestUpgrade?.(controller, statusCode, headers, socket)
  }

  onResponseStart(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: IncomingHttpHeaders,
    statusMessage?: string,
  ): void {
    const nonce = this.#source.dpop?.noteNonce('resource', this.#origin, headers['dpop-nonce'])
    if (statusCode === 401) {
      const challenge = headers['www-authenticate']
      const sentDpop = sendsDpop(this.#token, this.#source.dpop)
      if (sentDpop && !this.#nonceReplayed && nonce !== undefined && isUseDpopNonceChallenge(challenge)) {
        if (this.#canReplay) {
          this.#nonceReplayed = true
          this.#replay = 'new-nonce'
          return
        }
      } else if (!this.#tokenReplayed && isInvalidTokenChallenge(challenge, { dpop: sentDpop })) {
        this.#source.rejected(this.#token.accessToken)
        if (this.#canReplay) {
          this.#tokenReplayed = true
          this.#replay = 'new-token'
          return
        }
      }
    }
    this.#handler.onResponseStart?.(controller, statusCode, headers, statusMessage)
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#replay === undefined) this.#handler.onResponseData?.(controller, chunk)
  }

  onResponseEnd(controller: Dispatcher.DispatchController, trailers: IncomingHttpHeaders): void {
    const replay = this.#replay
    if (replay === undefined) {
      this.#handler.onResponseEnd?.(controller, trailers)
      return
    }
    this.#replay = undefined
    if (replay === 'new-nonce') {
      this.#send(this.#token, this)
      return
    }
    tokenForRequest(this.#source, this.#origin, this.#signal).then(
      (token) => {
        this.#token = token
        this.#send(token, this)
      },
      (error: Error) => this.#handler.onResponseError?.(controller, error),
    )
  }

  onResponseError(controller: Dispatcher.DispatchController, error: Error): void {
    this.#handler.onResponseError?.(controller, error)
  }
}

/**
 * Builds the interceptor.
 *
 * @param source Where tokens come from.
 * @param allowed Origins that get the token.
 * @param certificateDispatcher For a mutual-TLS client without a `dispatcher` of its own: the
 *   `Agent` presenting its certificate, which the allowed origins' requests are dispatched through.
 */
export function createTokenInterceptor(
  source: AccessTokenSource,
  allowed: ReadonlySet<string>,
  certificateDispatcher?: Dispatcher,
): Dispatcher.DispatcherComposeInterceptor {
  return (composed) => {
    const dispatch: typeof composed =
      certificateDispatcher === undefined
        ? composed
        : (options, handler) => certificateDispatcher.dispatch(options, handler)
    return function tokenInterceptor(options, handler) {
      const origin = originOf(options.origin)
      if (origin === undefined || !allowed.has(origin)) return composed(options, handler)
      const headers = headerRecord(options.headers)
      if (hasAuthorization(headers)) return dispatch(options, handler)
      const { dpop } = source
      /** Sends once with `token`, with a proof made now for a DPoP token. */
      const send = (token: TokenSet, target: Dispatcher.DispatchHandler): void => {
        try {
          // The proof names the request's URL (its path may hold a query; the proof drops it).
          const credentials = credentialsFor(token, dpop, options.method, () => new URL(options.path, origin))
          const sent: Headers = { ...headers, authorization: credentials.authorization }
          if (credentials.dpop !== undefined) sent.dpop = credentials.dpop
          dispatch({ ...options, headers: sent }, target)
        } catch (error) {
          handler.onResponseError?.(null as unknown as Dispatcher.DispatchController, error as Error)
        }
      }
      const signal = signalOf(options)
      tokenForRequest(source, origin, signal).then(
        (token) =>
          send(
            token,
            new TokenHandler({
              handler,
              send,
              source,
              origin,
              signal,
              token,
              canReplay: isReplayableBody(options.body),
            }),
          ),
        // No controller exists yet: undici's own interceptors (dns) report early failures the same way.
        (error: Error) => handler.onResponseError?.(null as unknown as Dispatcher.DispatchController, error),
      )
      return true
    }
  }
}
