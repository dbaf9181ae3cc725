/**
 * Mints access tokens for tests by calling the reference server's own token endpoint in process
 * (`server.handle()`, no socket) with the same authenticated form POST a real client sends, so a
 * token is exactly what a real client would get: same claims, same signing key, and opaque tokens
 * the server can introspect and revoke.
 *
 * @module token-minting
 */
import { errorFromAnswer, postAuthenticatedForm } from '@oauth-m2m/core/internal'
import type { AuthorizationServer } from '@oauth-m2m/server'
import type { Dispatcher } from 'undici'
import type { TestClientCredentials } from './test-clients.js'
import { createWebHandlerDispatcher } from './web-handler-dispatcher.js'

const PURPOSE = 'token endpoint'

/** One dispatcher per server, answering from `server.handle()` without a socket. */
const dispatchers = new WeakMap<AuthorizationServer, Dispatcher>()

function inProcessDispatcher(server: AuthorizationServer): Dispatcher {
  let dispatcher = dispatchers.get(server)
  if (dispatcher === undefined) {
    dispatcher = createWebHandlerDispatcher((request) => server.handle(request), unanswered)
    dispatchers.set(server, dispatcher)
  }
  return dispatcher
}

/** Options of `mintToken`. */
export interface MintTokenOptions {
  /**
   * The client the token is issued to: its `sub` and `client_id`. An id the server does not know
   * is registered first, as `createClient(clientId)` does. Default: the default client.
   */
  clientId?: string
  /** Scopes asked for (space-separated or a list). Default: every scope the client may have. */
  scope?: string | readonly string[]
  /**
   * RFC 8707 resource indicator(s); the token's `aud` becomes the resource's audience, and its
   * format and lifetime those configured for the resource. Default: none (the server's
   * `defaultAudience`).
   */
  resource?: string | readonly string[]
}

function list(value: string | readonly string[] | undefined): readonly string[] {
  if (value === undefined) return []
  return typeof value === 'string' ? [value] : value
}

/** Whose answer the in-process dispatcher has none for: never, since the server answers everything. */
function unanswered(request: Request): Error {
  return new Error(`the reference server did not answer ${request.method} ${request.url}`)
}

/**
 * Asks `server`'s token endpoint for a client_credentials token as `client`, through the same
 * authenticated form POST the token client uses, answered in process by `server.handle()`.
 *
 * @throws {OAuthResponseError} when the server refuses.
 * @throws {HttpError} when its answer is not a token response.
 */
export async function requestTestToken(
  server: AuthorizationServer,
  client: TestClientCredentials,
  options: MintTokenOptions,
): Promise<string> {
  const form = new URLSearchParams({ grant_type: 'client_credentials' })
  const scope = list(options.scope).join(' ')
  if (scope !== '') form.set('scope', scope)
  for (const resource of list(options.resource)) form.append('resource', resource)
  const answer = await postAuthenticatedForm(client.tokenEndpoint, form, {
    auth: client.auth,
    context: {
      clientId: client.clientId,
      endpoint: client.tokenEndpoint,
      tokenEndpoint: client.tokenEndpoint,
      issuer: client.issuer,
    },
    purpose: PURPOSE,
    dispatcher: inProcessDispatcher(server),
  })
  const body = answer.body as Record<string, unknown> | null
  if (answer.status === 200 && typeof body?.access_token === 'string') return body.access_token
  // Scrubbed like the client's: the server may echo the credential it was sent.
  throw errorFromAnswer(answer, answer.redactor, PURPOSE)
}
