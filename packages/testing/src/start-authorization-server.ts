/**
 * `startAuthorizationServer`: the reference authorization server listening on a free loopback
 * port, for tests that talk real HTTP.
 *
 * @module start-authorization-server
 */
import { ConfigurationError } from '@oauth-m2m/core'
import { createAuthorizationServer } from '@oauth-m2m/server'
import { routerOf } from './request-router.js'
import {
  prepareTestServerConfig,
  type TestAuthorizationServer,
  type TestAuthorizationServerOptions,
  testServerHandle,
} from './test-authorization-server.js'
import { type ListenerHandler, listenerLimits, startTestListener } from './test-listener.js'
import { loadUndici } from './undici-loader.js'

/** Options of {@link startAuthorizationServer}. */
export interface StartAuthorizationServerOptions extends Omit<TestAuthorizationServerOptions, 'issuer'> {
  /** TCP port. Default 0: a free one. */
  port?: number
  /** Loopback address to bind: any of 127.0.0.0/8, `::1` or `localhost`. Default `127.0.0.1`. */
  host?: string
}

/** A test authorization server listening over HTTP. */
export interface StartedAuthorizationServer extends TestAuthorizationServer {
  /**
   * Base URL of the server, e.g. `http://127.0.0.1:43121`; also the issuer. For a server of
   * `startAuthorizationServers` it is the listener's URL followed by the issuer's name. Under a
   * provider profile the issuer is the provider's URL instead (see `issuerOrigin`).
   */
  readonly url: string
}

/** Answers 503 until the server behind a listener exists (nobody knows the port before that). */
function notReady(): Promise<Response> {
  return Promise.resolve(
    new Response(JSON.stringify({ error: 'temporarily_unavailable', error_description: 'starting' }), {
      status: 503,
      headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
    }),
  )
}

/**
 * Starts the reference authorization server on `http://127.0.0.1:<free port>` with a default
 * client (`test-client`, scope `read write`, `client_secret_basic`, random secret) and any
 * clients in `options.clients`. The issuer is the listener's URL. Requests go through the same
 * path as msw's (`authorizationServerHandlers`): request log, injected failures, then the server.
 *
 * @throws {ConfigurationError} when the options are not a valid server configuration or `host`
 *   is not a loopback address.
 */
export async function startAuthorizationServer(
  options: StartAuthorizationServerOptions = {},
): Promise<StartedAuthorizationServer> {
  await loadUndici()
  const { port = 0, host = '127.0.0.1', ...serverOptions } = options
  if ('issuer' in serverOptions) {
    throw new ConfigurationError(
      '@oauth-m2m/testing: startAuthorizationServer takes no issuer; it is the listener URL',
    )
  }
  // The port is known only once listening, and the issuer is its URL: listen first, then build
  // the server with that issuer and let the listener reach it.
  let handler: ListenerHandler = notReady
  const listener = await startTestListener((request, context) => handler(request, context), {
    host,
    port,
    ...listenerLimits(serverOptions),
  })
  try {
    const prepared = prepareTestServerConfig(serverOptions, listener.url)
    const server = await createAuthorizationServer(prepared.config)
    const handle = testServerHandle(server, prepared, async () => {
      await listener.close()
      await server.close()
    })
    const router = routerOf(handle)
    if (router === undefined) throw new Error('@oauth-m2m/testing: the test server has no request router')
    handler = (request, context) => router.handle(request, context)
    prepared.profile.useListener(listener.url)
    // Assigned, not spread: a spread would freeze `clientIds`, which follows `createClient`.
    return Object.assign(handle, { url: listener.url })
  } catch (error) {
    await listener.close()
    throw error
  }
}
