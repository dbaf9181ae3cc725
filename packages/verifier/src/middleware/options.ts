/**
 * The options every middleware entry point accepts, checked once when the middleware is created.
 *
 * @module middleware/options
 */
import { ConfigurationError } from '@oauth-m2m/core'
import { isScopeToken } from '@oauth-m2m/core/internal'
import type { Verifier, VerifyOptions } from '../types.js'

/** Options shared by the node:http, Express, Fastify, Hono and fetch middleware. */
export interface BearerAuthOptions {
  /** Checks the tokens; usually `createVerifier(…)`. The middleware never closes it. */
  verifier: Verifier
  /** Scopes every request must carry; all of them, else 403 `insufficient_scope`. Default: none. */
  scopes?: readonly string[]
  /**
   * The protection space named in `WWW-Authenticate: Bearer realm="…"`. Default: no `realm`
   * attribute (the challenge is then just `Bearer`, or `Bearer error="…"`).
   */
  realm?: string
  /**
   * `Retry-After` of the 503 answer sent when the token cannot be checked right now (keys or
   * introspection unreachable), in seconds. Default 5. `0` leaves the header out.
   */
  retryAfterSec?: number
}

/** {@link BearerAuthOptions} checked and with defaults applied. */
export interface BearerAuthSettings {
  readonly verifier: Verifier
  readonly realm: string | undefined
  readonly retryAfterSec: number
  /** What `verify()` gets for the configured scopes; `undefined` when none are required. */
  readonly verifyOptions: VerifyOptions | undefined
}

/** Checks a scope list given in options; returns the `verify()` options for it. */
export function verifyOptionsFor(
  scopes: readonly string[] | undefined,
  where: string,
): VerifyOptions | undefined {
  if (scopes === undefined) return undefined
  if (!Array.isArray(scopes)) throw new ConfigurationError(`${where}: scopes must be an array of strings`)
  for (const scope of scopes) {
    if (typeof scope !== 'string' || !isScopeToken(scope)) {
      throw new ConfigurationError(`${where}: every scope must be a non-empty RFC 6749 scope-token`)
    }
  }
  return scopes.length === 0 ? undefined : { scopes: Object.freeze([...scopes]) }
}

/** Validates the options; throws `ConfigurationError` at start-up rather than on a request. */
export function resolveBearerAuthOptions(options: BearerAuthOptions): BearerAuthSettings {
  if (typeof options?.verifier?.verify !== 'function') {
    throw new ConfigurationError('bearer auth: options.verifier must be a Verifier (createVerifier())')
  }
  if (options.realm !== undefined && typeof options.realm !== 'string') {
    throw new ConfigurationError('bearer auth: realm must be a string')
  }
  const retryAfterSec = options.retryAfterSec ?? 5
  if (!Number.isSafeInteger(retryAfterSec) || retryAfterSec < 0) {
    throw new ConfigurationError('bearer auth: retryAfterSec must be a non-negative integer')
  }
  return {
    verifier: options.verifier,
    realm: options.realm,
    retryAfterSec,
    verifyOptions: verifyOptionsFor(options.scopes, 'bearer auth'),
  }
}
