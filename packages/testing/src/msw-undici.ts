/**
 * Routes undici requests through msw request handlers.
 *
 * msw's `setupServer` patches `globalThis.fetch` and `node:http`, but the `undici` package opens
 * its own sockets, so `undici.request` and `undici.fetch` pass straight by it (mswjs/msw#2165).
 * This module answers undici's requests from msw handlers instead: an interceptor for
 * `Dispatcher.compose` turns each dispatch into a web `Request`, asks msw's `getResponse` for the
 * answer and replays it through undici's handler API. The code under test keeps its real undici
 * path; only the network is replaced.
 *
 * ```ts
 * import { http, HttpResponse } from 'msw'
 * import { request } from 'undici'
 * const dispatcher = createMswDispatcher([http.get('https://api.test/x', () => HttpResponse.json({ ok: true }))])
 * const res = await request('https://api.test/x', { dispatcher })
 * ```
 *
 * @module msw-undici
 */
import { OAuthM2MError } from '@oauth-m2m/core'
import { getResponse, type RequestHandler } from 'msw'
import * as undiciModule from 'undici'
import { Agent, type Dispatcher } from 'undici'
import { provideUndici } from './undici-loader.js'
import { webHandlerInterceptor } from './web-handler-dispatcher.js'

// This entry imports undici itself (msw users send through it at once): the shared dispatchers use it.
provideUndici(undiciModule)

/**
 * The msw handlers that answer requests: a fixed list, or a function returning the current list
 * (read once per request, so a test can swap handlers the way `server.use` does).
 */
export type MswHandlerSource = readonly RequestHandler[] | (() => readonly RequestHandler[])

/**
 * No msw handler answered a request. The bridge never lets such a request reach the network,
 * like msw's `onUnhandledRequest: 'error'`.
 */
export class UnhandledRequestError extends OAuthM2MError {
  /** HTTP method of the unhandled request. */
  readonly method: string
  /** Full URL of the unhandled request. */
  readonly url: string

  constructor(method: string, url: string) {
    super('ERR_MSW_UNHANDLED_REQUEST', `no msw handler answered ${method} ${url}`)
    this.method = method
    this.url = url
  }
}

/**
 * An undici interceptor that answers every request from msw `handlers` and never touches the
 * network. Compose it onto any dispatcher: `new Agent().compose(mswInterceptor(handlers))`.
 *
 * - a request no handler answers fails with {@link UnhandledRequestError};
 * - `HttpResponse.error()` fails the request with undici's `SocketError` (`UND_ERR_SOCKET`),
 *   what undici reports for a connection reset (`undici.fetch` wraps it in `TypeError: fetch failed`);
 * - an error thrown by a handler fails the request with that error;
 * - response bodies are delivered chunk by chunk, with undici's back-pressure;
 * - the caller's `AbortSignal` (and anything else that aborts the dispatch) fails the request at
 *   once, even while a handler is still waiting on msw's `delay()`.
 */
export function mswInterceptor(handlers: MswHandlerSource): Dispatcher.DispatcherComposeInterceptor {
  const currentHandlers = typeof handlers === 'function' ? handlers : () => handlers
  return webHandlerInterceptor(
    (request) => getResponse([...currentHandlers()], request),
    (request) => new UnhandledRequestError(request.method, request.url),
  )
}

/**
 * An undici `Dispatcher` whose every request is answered by msw `handlers` (see
 * {@link mswInterceptor}). Pass it as the `dispatcher` option of `undici.request`, `undici.fetch`
 * or any client that accepts one.
 */
export function createMswDispatcher(handlers: MswHandlerSource): Dispatcher {
  return new Agent().compose(mswInterceptor(handlers))
}
