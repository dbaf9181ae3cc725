/**
 * What `@oauth-m2m/server/internal` reaches inside a server made by `createAuthorizationServer`,
 * kept beside the server in a module-level WeakMap so that the public `AuthorizationServer`
 * interface does not grow members meant for the oauth-m2m packages only.
 *
 * @module server-internals
 */
import type { AuthorizationServer } from './authorization-server.js'
import type { ServerStore } from './server-store.js'
import type { SigningKeySet } from './signing/signing-key-set.js'

/** The parts of a server that the internal entry point uses. */
export interface ServerInternals {
  readonly keys: SigningKeySet
  readonly store: ServerStore
  /** The configured `accessTokenTyp` (`null`: none). */
  readonly typ: string | null
  /** The server's clock, epoch ms. */
  readonly now: () => number
  /** The configured `accessTokenLifetimeSec`. */
  readonly accessTokenLifetimeSec: number
}

const internals = new WeakMap<AuthorizationServer, ServerInternals>()

/** Records the internals of a server just created. */
export function registerServerInternals(server: AuthorizationServer, parts: ServerInternals): void {
  internals.set(server, parts)
}

/**
 * The internals of `server`.
 *
 * @throws {TypeError} when `server` was not made by `createAuthorizationServer`.
 */
export function serverInternals(server: AuthorizationServer): ServerInternals {
  const parts = internals.get(server)
  if (parts === undefined)
    throw new TypeError('not an authorization server made by createAuthorizationServer')
  return parts
}
