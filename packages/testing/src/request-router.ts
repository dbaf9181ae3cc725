/**
 * The one request path of a test server, shared by its real port (`test-listener`), its msw
 * handlers and its in-process dispatcher: request log, then failure injection, then the
 * interceptors (a provider profile's request rules and answer quirks), then the server's own
 * `handle()`. A failure or a log entry is therefore the same whichever way a request came.
 *
 * @module request-router
 */
import type { AuthorizationServer } from '@oauth-m2m/server'
import type { TestClock } from './clock.js'
import type { EndpointKind, EndpointMap } from './endpoint-kinds.js'
import { type FailureInjector, failureResponse, waitFailureDelay } from './failure-injection.js'
import { bufferRequest } from './request-body.js'
import { describeRequest, type RequestLog } from './request-log.js'

/**
 * Wraps the server's answer to a request: may change the request before calling `next`, answer
 * by itself without calling it, or change the answer. Interceptors run in list order, after the
 * request log and failure injection, before the server.
 */
export type RequestInterceptor = (
  request: Request,
  next: (request: Request) => Promise<Response>,
) => Promise<Response>

/** What the transport knows about a request beyond the `Request` itself. */
export interface RequestContext {
  /** The caller's IP address (a real port knows it; msw does not). */
  remoteAddress?: string
}

/** What a router is built from. */
export interface RequestRouterOptions {
  /** The server that answers. */
  readonly server: AuthorizationServer
  /** Its endpoints, to name them in the log and find their injected failures. */
  readonly endpoints: EndpointMap
  /** Stamps log entries. */
  readonly clock: TestClock
  /** Where every answered request is recorded. */
  readonly log: RequestLog
  /** The failures planned for the endpoints, taken before the server answers. */
  readonly failures: FailureInjector
  /** Run in order between failure injection and the server. Default: none. */
  readonly interceptors?: readonly RequestInterceptor[]
  /**
   * The server's `maxBodyBytes`: the router reads a body once, up to one byte more than this, for
   * the log and everything after it.
   */
  readonly maxBodyBytes: number
}

function errorAnswer(status: number, error: string, description: string): Response {
  return new Response(JSON.stringify({ error, error_description: description }), {
    status,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
  })
}

/** Answers requests for one test server (see the module description for the order). */
export class RequestRouter {
  readonly #options: RequestRouterOptions
  readonly #realm: string
  // Ends every injected delay when the server closes, so close() never waits for one.
  readonly #closing = new AbortController()

  constructor(options: RequestRouterOptions) {
    this.#options = options
    this.#realm = options.server.issuer
  }

  /** Whether `url` is for this server (see {@link EndpointMap.owns}). */
  owns(url: URL): boolean {
    return this.#options.endpoints.owns(url)
  }

  /** The endpoint at `path`, if any. */
  kindOf(path: string): EndpointKind | undefined {
    return this.#options.endpoints.kindOf(path)
  }

  /**
   * Answers `request`. Never rejects: a `Response.error()` means "reset the connection", which
   * each transport turns into its own network error.
   */
  async handle(request: Request, context: RequestContext = {}): Promise<Response> {
    const { clock, log, maxBodyBytes } = this.#options
    const timeMs = clock.now()
    const path = new URL(request.url).pathname
    const endpoint = this.kindOf(path) ?? 'other'
    let buffered: Awaited<ReturnType<typeof bufferRequest>> | undefined
    try {
      buffered = await bufferRequest(request, maxBodyBytes)
    } catch {
      // The body broke off (the client went away): answered as the server answers it.
      buffered = undefined
    }
    const description = describeRequest(request, endpoint, buffered?.body)
    let response: Response
    if (buffered === undefined) {
      response = errorAnswer(400, 'invalid_request', 'the request body could not be read')
    } else {
      try {
        response = await this.#answer(buffered.request, endpoint, context)
      } catch {
        response = errorAnswer(500, 'server_error', 'the test server failed to answer')
      }
    }
    log.add({ ...description, timeMs, status: response.type === 'error' ? undefined : response.status })
    return response
  }

  /** Ends pending injected delays (their requests are reset). */
  close(): void {
    this.#closing.abort()
  }

  async #answer(
    request: Request,
    endpoint: EndpointKind | 'other',
    context: RequestContext,
  ): Promise<Response> {
    const failure = endpoint === 'other' ? undefined : this.#options.failures.take(endpoint)
    if (failure !== undefined) {
      const waited = await waitFailureDelay(
        failure.delayMs,
        AbortSignal.any([request.signal, this.#closing.signal]),
      )
      if (!waited || failure.reset) return Response.error()
      if (failure.status !== undefined) {
        return failureResponse({ ...failure, status: failure.status }, request, this.#realm)
      }
    }
    const { server, interceptors = [] } = this.#options
    const serve = (req: Request) => server.handle(req, { remoteAddress: context.remoteAddress })
    const chain = interceptors.reduceRight<(req: Request) => Promise<Response>>(
      (next, interceptor) => (req) => interceptor(req, next),
      serve,
    )
    return chain(request)
  }
}

const attached = new WeakMap<object, RequestRouter>()

/** Remembers the router of a test server handle, for `authorizationServerHandlers` and dispatchers. */
export function attachRouter(handle: object, router: RequestRouter): void {
  attached.set(handle, router)
}

/** The router of a test server handle; `undefined` for anything else (a bare `AuthorizationServer`). */
export function routerOf(handle: object): RequestRouter | undefined {
  return attached.get(handle)
}
