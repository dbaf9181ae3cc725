/**
 * `client.interceptor()`: an undici interceptor for `Dispatcher.compose`, so that any undici-based
 * code gets tokens: `new Agent().compose(client.interceptor())`. Same rules as `client.fetch`:
 * only allowed origins get the token, a request that should carry one is never sent without it,
 * and a 401 `invalid_token` answer drops the token and replays the request once when its body
 * can be sent again (none, string, bytes, FormData, Blob; not a stream).
 *
 * @module interceptor
 */
import type { IncomingHttpHeaders } from 'node:http'
import type { Dispatcher } from 'undici'
import { type BearerSource, bearerToken } from './authorized-fetch.js'
import { isInvalidTokenChallenge } from './bearer-challenge.js'
import { isReplayableBody } from './replayable-body.js'

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

/** What a {@link BearerHandler} needs: where the request goes, how to send it again, and with what. */
interface BearerHandlerOptions {
  /** The caller's handler, which gets every answer but a swallowed 401. */
  handler: Dispatcher.DispatchHandler
  /** Sends the request with `token`, answering to `handler`. */
  send: (token: string, handler: Dispatcher.DispatchHandler) => void
  source: BearerSource
  /** Origin of the request, for a `TokenUnavailableError`. */
  origin: string
  /** The caller's signal, which stops the wait for a new token. */
  signal: AbortSignal | undefined
  /** The token the request is sent with. */
  token: string
  /** Whether the body can be sent a second time. */
  canReplay: boolean
}

/**
 * Passes a response through, except a 401 `invalid_token` one: that token is reported, and when
 * the request can be replayed (once), the response is swallowed and the request sent again with
 * a new token.
 */
class BearerHandler implements Dispatcher.DispatchHandler {
  readonly #handler: Dispatcher.DispatchHandler
  readonly #send: (token: string, handler: Dispatcher.DispatchHandler) => void
  readonly #source: BearerSource
  readonly #origin: string
  readonly #signal: AbortSignal | undefined
  #token: string
  #canReplay: boolean
  #swallowing = false

  constructor({ handler, send, source, origin, signal, token, canReplay }: BearerHandlerOptions) {
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
    if (statusCode === 401 && isInvalidTokenChallenge(headers['www-authenticate'])) {
      this.#source.rejected(this.#token)
      if (this.#canReplay) {
        this.#canReplay = false
        this.#swallowing = true
        return
      }
    }
    this.#handler.onResponseStart?.(controller, statusCode, headers, statusMessage)
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (!this.#swallowing) this.#handler.onResponseData?.(controller, chunk)
  }

  onResponseEnd(controller: Dispatcher.DispatchController, trailers: IncomingHttpHeaders): void {
    if (!this.#swallowing) {
      this.#handler.onResponseEnd?.(controller, trailers)
      return
    }
    this.#swallowing = false
    bearerToken(this.#source, this.#origin, this.#signal).then(
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
 */
export function createBearerInterceptor(
  source: BearerSource,
  allowed: ReadonlySet<string>,
): Dispatcher.DispatcherComposeInterceptor {
  return (dispatch) =>
    function bearerInterceptor(options, handler) {
      const origin = originOf(options.origin)
      if (origin === undefined || !allowed.has(origin)) return dispatch(options, handler)
      const headers = headerRecord(options.headers)
      if (hasAuthorization(headers)) return dispatch(options, handler)
      const send = (token: string, target: Dispatcher.DispatchHandler) => {
        try {
          dispatch({ ...options, headers: { ...headers, authorization: `Bearer ${token}` } }, target)
        } catch (error) {
          handler.onResponseError?.(null as unknown as Dispatcher.DispatchController, error as Error)
        }
      }
      const signal = signalOf(options)
      bearerToken(source, origin, signal).then(
        (token) =>
          send(
            token,
            new BearerHandler({
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
