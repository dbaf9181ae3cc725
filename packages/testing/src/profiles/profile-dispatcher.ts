/**
 * `as.dispatcher`: an undici `Dispatcher` under which the provider's hosts
 * (`login.microsoftonline.com`, `{tenant}.auth0.com`, …) are the test server, so clients and
 * verifiers use the provider's real URLs unchanged. Requests for any other host go out as usual.
 *
 * @module profiles/profile-dispatcher
 */
import type { Dispatcher } from 'undici'
import { undici } from '../undici-loader.js'
import { webHandlerInterceptor } from '../web-handler-dispatcher.js'

/** Where the profile's hosts lead. */
export type ProfileDispatchTarget =
  /** Answered in this process, without a socket (a server created with `createTestAuthorizationServer`). */
  | { readonly handle: (request: Request) => Promise<Response> }
  /** Sent to the test server's loopback listener, e.g. `http://127.0.0.1:43121`. */
  | { readonly listenerUrl: string }

function urlOf(options: Dispatcher.DispatchOptions): URL | undefined {
  if (options.origin === undefined) return undefined
  try {
    return new URL(options.path, options.origin)
  } catch {
    return undefined
  }
}

function unanswered(request: Request): Error {
  return new Error(`the test server did not answer ${request.method} ${request.url}`)
}

/** A matcher for every URL on one of `hosts` (`URL.host`: with the port when it is not the default). */
export function onHosts(hosts: readonly string[]): (url: URL) => boolean {
  const owned = new Set(hosts.map((host) => host.toLowerCase()))
  return (url) => owned.has(url.host)
}

/**
 * A dispatcher that sends every request whose URL `isServed` accepts to `target`, and any other
 * request on to the network.
 */
export function createProfileDispatcher(
  isServed: (url: URL) => boolean,
  target: ProfileDispatchTarget,
): Dispatcher {
  const served = (options: Dispatcher.DispatchOptions): boolean => {
    const url = urlOf(options)
    return url !== undefined && isServed(url)
  }
  if ('handle' in target) {
    const answerInProcess = webHandlerInterceptor(target.handle, unanswered)
    return new (undici().Agent)().compose((dispatch) => {
      const inProcess = answerInProcess(dispatch)
      return (options, handler) =>
        served(options) ? inProcess(options, handler) : dispatch(options, handler)
    })
  }
  const listener = new URL(target.listenerUrl).origin
  return new (undici().Agent)().compose(
    (dispatch) => (options, handler) =>
      served(options) ? dispatch({ ...options, origin: listener }, handler) : dispatch(options, handler),
  )
}
