/**
 * The parameters of a token request as the client sent them, kept for the user's `beforeSign`
 * while a profile's rules hand the server a rewritten request (Auth0's `audience` becomes a
 * `resource`, Entra's `scope=…/.default` a `resource` and no scope): the hook is promised the
 * request's parameters, and a test of a provider's client wants to see what that client sent.
 *
 * The rules and the server answer within one async call chain, so the parameters travel in an
 * `AsyncLocalStorage` from the request to the hook, whatever the transport.
 *
 * @module profiles/sent-parameters
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import { textParameters } from '../body-parameters.js'
import { readBodyText } from '../request-body.js'
import type { ProfileInterceptor } from './provider-profile.js'
import { isPostTo } from './token-request-body.js'

/** What `beforeSign` is shown of the request, in the server's `BeforeSignContext` shape. */
export interface SentParameters {
  /** The parameters, first value of each, without the client's credentials. */
  readonly params: Readonly<Record<string, string>>
  /** Every `resource` parameter, as sent. */
  readonly resources: readonly string[]
}

/** Left out of `params`, as the server leaves them out of its own. */
const CREDENTIALS = new Set(['client_secret', 'client_assertion'])

const sent = new AsyncLocalStorage<SentParameters>()

function sentOf(parameters: ReadonlyMap<string, readonly string[]>): SentParameters {
  const params: Record<string, string> = {}
  for (const [name, values] of parameters) {
    if (!CREDENTIALS.has(name) && values[0] !== undefined) params[name] = values[0]
  }
  return { params, resources: [...(parameters.get('resource') ?? [])] }
}

/**
 * `rules` with the parameters of every token request (a POST to `tokenEndpoint`, a form or a JSON
 * object of at most `maxBodyBytes`) kept for {@link sentParameters} while the request is answered.
 */
export function keepSentParameters(
  rules: ProfileInterceptor,
  tokenEndpoint: string,
  maxBodyBytes: number,
): ProfileInterceptor {
  return async (request, next) => {
    if (!isPostTo(request, tokenEndpoint)) return rules(request, next)
    const text = await readBodyText(request, maxBodyBytes)
    const parameters =
      text === undefined ? undefined : textParameters(request.headers.get('content-type'), text)
    if (parameters === undefined) return rules(request, next)
    return sent.run(sentOf(parameters), () => rules(request, next))
  }
}

/**
 * The parameters the client sent with the token request being answered; `undefined` outside one
 * (e.g. `mintToken`, which no profile rule rewrites).
 */
export function sentParameters(): SentParameters | undefined {
  return sent.getStore()
}
