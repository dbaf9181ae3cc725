/**
 * The two ways a test reaches a test server — a real loopback port, and msw in process through
 * the undici bridge — so one suite checks that both behave the same.
 */

import { type JsonRequestOptions, type JsonResponse, requestJson } from '@oauth-m2m/core/internal'
import {
  createTestAuthorizationServer,
  type StartAuthorizationServerOptions,
  startAuthorizationServer,
  type TestAuthorizationServer,
  type TestClientCredentials,
} from '@oauth-m2m/testing'
import { authorizationServerHandlers, createMswDispatcher } from '@oauth-m2m/testing/msw'
import type { Dispatcher } from 'undici'

/** A test server reached one way. */
export interface Reached {
  readonly as: TestAuthorizationServer
  /** Sends a request the way this transport does. */
  request(url: string, options?: JsonRequestOptions): Promise<JsonResponse>
  /** The undici dispatcher that reaches the server (`undefined`: the global one, a real port). */
  readonly dispatcher: Dispatcher | undefined
  close(): Promise<void>
}

/** A way to start and reach a test server. */
export interface Transport {
  readonly name: string
  start(options?: StartAuthorizationServerOptions): Promise<Reached>
}

function once(action: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined
  return () => {
    done ??= action()
    return done
  }
}

export const TRANSPORTS: readonly Transport[] = [
  {
    name: 'a real port',
    async start(options = {}) {
      const as = await startAuthorizationServer(options)
      return {
        as,
        dispatcher: undefined,
        request: (url, requestOptions = {}) => requestJson(url, requestOptions),
        close: () => as.close(),
      }
    },
  },
  {
    name: 'msw',
    async start(options = {}) {
      const { port: _port, host: _host, ...serverOptions } = options
      const as = await createTestAuthorizationServer(serverOptions)
      const dispatcher = createMswDispatcher(authorizationServerHandlers(as))
      return {
        as,
        dispatcher,
        request: (url, requestOptions = {}) => requestJson(url, { ...requestOptions, dispatcher }),
        close: once(async () => {
          await as.close()
          await dispatcher.close()
        }),
      }
    },
  },
]

/** A client_credentials token request authenticated as `client`, with extra form parameters. */
export async function tokenRequest(
  reached: Pick<Reached, 'request'>,
  client: TestClientCredentials,
  params: Record<string, string> = {},
  options: JsonRequestOptions = {},
): Promise<JsonResponse> {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' }
  const body = new URLSearchParams({ grant_type: 'client_credentials', ...params })
  await client.auth.apply(
    { headers, body },
    {
      clientId: client.clientId,
      endpoint: client.tokenEndpoint,
      tokenEndpoint: client.tokenEndpoint,
      issuer: client.issuer,
    },
  )
  return reached.request(client.tokenEndpoint, { ...options, method: 'POST', headers, body: body.toString() })
}
