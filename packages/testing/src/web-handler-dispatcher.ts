/**
 * Answers undici's requests from a web handler (`(Request) => Promise<Response | undefined>`)
 * instead of the network: an interceptor for `Dispatcher.compose` turns each dispatch into a web
 * `Request`, awaits the handler and replays its `Response` through undici's handler API, with
 * back-pressure and the caller's abort. msw handlers (`@oauth-m2m/testing/msw`) and the reference
 * server's own `handle()` (test minting) both answer through it; neither needs a socket.
 *
 * @module web-handler-dispatcher
 */
import { STATUS_CODES } from 'node:http'
import { Readable } from 'node:stream'
import type { Dispatcher } from 'undici'
import { undici } from './undici-loader.js'

/** Answers a request, or `undefined` when it has no answer for it. */
export type WebHandler = (request: Request) => Promise<Response | undefined>

/**
 * An undici interceptor whose every request is answered by `handle`, never by the network.
 *
 * - a request `handle` has no answer for fails with the error `unhandled` builds;
 * - a `Response.error()` fails the request with undici's `SocketError` (`UND_ERR_SOCKET`), what
 *   undici reports for a connection reset;
 * - an error thrown by `handle` fails the request with that error;
 * - response bodies are delivered chunk by chunk, with undici's back-pressure;
 * - the caller's `AbortSignal` (and anything else that aborts the dispatch) fails the request at
 *   once, even while `handle` is still waiting; `request.signal` tells the handler.
 */
export function webHandlerInterceptor(
  handle: WebHandler,
  unhandled: (request: Request) => Error,
): Dispatcher.DispatcherComposeInterceptor {
  return () => (options, handler) => {
    void new WebHandlerExchange(options, handler).run(handle, unhandled)
    return true
  }
}

/** An undici `Dispatcher` whose every request is answered by `handle` (see {@link webHandlerInterceptor}). */
export function createWebHandlerDispatcher(
  handle: WebHandler,
  unhandled: (request: Request) => Error,
): Dispatcher {
  return new (undici().Agent)().compose(webHandlerInterceptor(handle, unhandled))
}

/** One dispatched request, answered by a web handler; it is also the controller handed to undici's handler. */
class WebHandlerExchange implements Dispatcher.DispatchController {
  readonly #options: Dispatcher.DispatchOptions
  readonly #handler: Dispatcher.DispatchHandler
  // Lets handlers that watch `request.signal` see the abort too.
  readonly #requestAbort = new AbortController()
  #body: Readable | undefined
  #aborted = false
  #paused = false
  #reason: Error | null = null
  #done = false

  constructor(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler) {
    this.#options = options
    this.#handler = handler
  }

  get aborted(): boolean {
    return this.#aborted
  }

  get paused(): boolean {
    return this.#paused
  }

  get reason(): Error | null {
    return this.#reason
  }

  abort(reason?: Error): void {
    if (this.#done) return
    this.#aborted = true
    this.#reason = reason ?? new (undici().errors.RequestAbortedError)()
    this.#requestAbort.abort(this.#reason)
    this.#body?.destroy()
    this.#fail(this.#reason)
  }

  pause(): void {
    this.#paused = true
    this.#body?.pause()
  }

  resume(): void {
    this.#paused = false
    this.#body?.resume()
  }

  async run(handle: WebHandler, unhandled: (request: Request) => Error): Promise<void> {
    try {
      this.#handler.onRequestStart?.(this, {})
      if (this.#done) return
      const request = await toWebRequest(this.#options, this.#requestAbort.signal)
      if (this.#done) return
      const response = await handle(request)
      if (this.#done) {
        await response?.body?.cancel().catch(() => {})
        return
      }
      if (response === undefined) throw unhandled(request)
      if (response.type === 'error') {
        throw new (undici().errors.SocketError)(
          `${request.method} ${request.url} was answered with a network error`,
        )
      }
      this.#replay(response)
    } catch (err) {
      this.#fail(err instanceof Error ? err : new Error(String(err)))
    }
  }

  #replay(response: Response): void {
    this.#handler.onResponseStart?.(
      this,
      response.status,
      toIncomingHeaders(response.headers),
      response.statusText || STATUS_CODES[response.status] || '',
    )
    if (this.#done) return
    if (response.body === null || this.#options.method === 'HEAD') {
      void response.body?.cancel().catch(() => {})
      this.#end()
      return
    }
    const body = Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>)
    this.#body = body
    body.on('data', (chunk: Uint8Array) => {
      try {
        this.#handler.onResponseData?.(this, Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength))
      } catch (err) {
        body.destroy(err instanceof Error ? err : new Error(String(err)))
      }
    })
    body.on('end', () => this.#end())
    body.on('error', (err) => this.#fail(err))
    // Attaching 'data' starts the flow; honour a pause requested during onResponseStart.
    if (this.#paused) body.pause()
  }

  #end(): void {
    if (this.#done) return
    this.#done = true
    try {
      this.#handler.onResponseEnd?.(this, {})
    } catch (err) {
      this.#handler.onResponseError?.(this, err instanceof Error ? err : new Error(String(err)))
    }
  }

  #fail(err: Error): void {
    if (this.#done) return
    this.#done = true
    this.#body?.destroy()
    this.#handler.onResponseError?.(this, err)
  }
}

/** Builds the web `Request` the handler sees from undici's dispatch options. */
async function toWebRequest(options: Dispatcher.DispatchOptions, signal: AbortSignal): Promise<Request> {
  if (options.origin === undefined) throw new TypeError('web handler bridge: the dispatch has no origin')
  const url = new URL(options.path, options.origin)
  for (const [name, value] of Object.entries(options.query ?? {}))
    url.searchParams.append(name, String(value))
  const method = options.method.toUpperCase()
  const body = await toRequestBody(options.body)
  if (body !== undefined && (method === 'GET' || method === 'HEAD')) {
    // undici.request allows this, but a web Request (and so msw) cannot carry it.
    throw new TypeError(
      `web handler bridge: a ${method} request with a body cannot be represented as a web Request`,
    )
  }
  return new Request(url, { method, headers: toHeaders(options.headers), body, signal })
}

type RequestBody = string | Uint8Array | FormData

/** undici accepts string, bytes, FormData, a Node stream or any async iterable of chunks. */
async function toRequestBody(
  body: Dispatcher.DispatchOptions['body'] | Iterable<unknown>,
): Promise<RequestBody | undefined> {
  if (body === undefined || body === null) return undefined
  if (typeof body === 'string' || body instanceof Uint8Array || body instanceof FormData) return body
  if (isForeignFormData(body)) {
    // The undici package's FormData is not Node's global one, which a web Request requires.
    const form = new FormData()
    for (const [name, value] of body) form.append(name, value)
    return form
  }
  if (isAsyncIterable(body) || isIterable(body)) {
    const chunks: Buffer[] = []
    for await (const chunk of body) chunks.push(toBuffer(chunk))
    return Buffer.concat(chunks)
  }
  throw new TypeError(`web handler bridge: unsupported request body of type ${typeof body}`)
}

function toBuffer(chunk: unknown): Buffer {
  if (typeof chunk === 'string') return Buffer.from(chunk)
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
  throw new TypeError('web handler bridge: a request body chunk is neither a string nor bytes')
}

function isForeignFormData(value: unknown): value is Iterable<[string, string | Blob]> {
  return (
    typeof value === 'object' &&
    value !== null &&
    Object.prototype.toString.call(value) === '[object FormData]'
  )
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value
}

function isIterable(value: unknown): value is Iterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.iterator in value
}

type HeaderValue = string | Buffer | readonly (string | Buffer)[] | number | undefined | null

/**
 * Converts every header shape undici accepts: a plain object (array values repeat the header), a
 * flat `[name, value, name, value]` array, an array of `[name, value]` pairs, or any iterable of
 * pairs (`Headers`, `Map`).
 */
function toHeaders(source: Dispatcher.DispatchOptions['headers']): Headers {
  const headers = new Headers()
  const add = (name: unknown, value: HeaderValue): void => {
    if (value === undefined || value === null) return
    const key = String(name)
    if (Array.isArray(value)) {
      for (const item of value) headers.append(key, String(item))
    } else {
      headers.append(key, String(value))
    }
  }
  if (source === undefined || source === null) return headers
  if (Array.isArray(source)) {
    if (source.every((entry) => Array.isArray(entry))) {
      for (const [name, value] of source as unknown as [string, HeaderValue][]) add(name, value)
    } else {
      if (source.length % 2 !== 0)
        throw new TypeError('web handler bridge: a flat header array needs name/value pairs')
      for (let i = 0; i < source.length; i += 2) add(source[i], source[i + 1] as HeaderValue)
    }
  } else if (isIterable(source)) {
    for (const [name, value] of source as Iterable<[string, HeaderValue]>) add(name, value)
  } else {
    for (const [name, value] of Object.entries(source)) add(name, value as HeaderValue)
  }
  return headers
}

/** Response headers as undici hands them to handlers: lower-case names, `set-cookie` kept apart. */
function toIncomingHeaders(headers: Headers): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {}
  for (const [name, value] of headers) {
    if (name !== 'set-cookie') out[name] = value
  }
  const cookies = headers.getSetCookie()
  if (cookies.length > 0) out['set-cookie'] = cookies
  return out
}
