/**
 * `startAuthorizationServer`: the reference authorization server listening on a free loopback
 * port, for tests that talk real HTTP.
 *
 * @module start-authorization-server
 */
import { ConfigurationError } from '@oauth-m2m/core'
import { isLoopbackHostname } from '@oauth-m2m/core/internal'
import { createAuthorizationServer } from '@oauth-m2m/server'
import {
  prepareTestServerConfig,
  type TestAuthorizationServer,
  type TestAuthorizationServerOptions,
  testServerHandle,
} from './test-authorization-server.js'

/** Options of {@link startAuthorizationServer}. */
export interface StartAuthorizationServerOptions extends Omit<TestAuthorizationServerOptions, 'issuer'> {
  /** TCP port. Default 0: a free one. */
  port?: number
  /** Loopback address to bind: any of 127.0.0.0/8, `::1` or `localhost`. Default `127.0.0.1`. */
  host?: string
}

/** A test authorization server listening over HTTP. */
export interface StartedAuthorizationServer extends TestAuthorizationServer {
  /** Base URL of the listener, e.g. `http://127.0.0.1:43121`; also the issuer. */
  readonly url: string
}

/**
 * Starts the reference authorization server on `http://127.0.0.1:<free port>` with a default
 * client (`test-client`, scope `read write`, `client_secret_basic`, random secret) and any
 * clients in `options.clients`. The issuer is the listener's URL.
 *
 * @throws {ConfigurationError} when the options are not a valid server configuration or `host`
 *   is not a loopback address.
 */
export async function startAuthorizationServer(
  options: StartAuthorizationServerOptions = {},
): Promise<StartedAuthorizationServer> {
  const { port = 0, host = '127.0.0.1', ...serverOptions } = options
  if (typeof host !== 'string' || !isLoopbackHostname(host)) {
    throw new ConfigurationError(
      '@oauth-m2m/testing: host must be a loopback address (127.0.0.0/8, ::1, localhost)',
    )
  }
  if ('issuer' in serverOptions) {
    throw new ConfigurationError(
      '@oauth-m2m/testing: startAuthorizationServer takes no issuer; it is the listener URL',
    )
  }
  const prepared = prepareTestServerConfig(serverOptions, undefined)
  const server = await createAuthorizationServer(prepared.config)
  const listener = await server.listen({ port, host })
  const handle = testServerHandle(server, prepared, () => server.close())
  // Assigned, not spread: a spread would freeze `clientIds`, which follows `createClient`.
  return Object.assign(handle, { url: listener.url })
}
