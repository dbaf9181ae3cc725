/**
 * `@oauth-m2m/server/internal`: what the oauth-m2m packages (`@oauth-m2m/testing`) use of a
 * server beyond its public API. Not a public API: anything here may change in any release.
 *
 * @internal
 * @packageDocumentation
 */
import type { AuthorizationServer } from './authorization-server.js'
import type { TokenFormat } from './resource.js'
import { serverInternals } from './server-internals.js'
import { storeOpaqueToken } from './token-issuer.js'
import { TokenLookup } from './token-lookup.js'

/** Options of {@link issueAccessToken}. */
export interface IssueAccessTokenOptions {
  /** Exactly the claims of the token; nothing is added, checked or removed. */
  claims: Readonly<Record<string, unknown>>
  /**
   * JWT header members replacing or adding to the usual `typ` (the configured `accessTokenTyp`)
   * and `kid` (the current key's); one whose value is `undefined` is left out. `alg` is always the
   * key's. Ignored for opaque tokens.
   */
  header?: Readonly<Record<string, unknown>>
  /**
   * `jwt`: signed with the server's current signing key. `opaque`: stored, so that introspection
   * answers `claims` and revocation knows the token, until `exp` (or, without a numeric `exp`,
   * the server's `accessTokenLifetimeSec` from now). Default `jwt`.
   */
  format?: TokenFormat
}

/**
 * Issues an access token with exactly the given claims, as the server would sign or store it, for
 * tokens shaped by tests. No `beforeSign` hook runs.
 *
 * @throws {TypeError} when `server` was not made by `createAuthorizationServer`, or the claims are
 *   not a JSON object.
 */
export async function issueAccessToken(
  server: AuthorizationServer,
  options: IssueAccessTokenOptions,
): Promise<string> {
  const { keys, store, typ, now, accessTokenLifetimeSec } = serverInternals(server)
  const { claims, header = {}, format = 'jwt' } = options
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) {
    throw new TypeError('issueAccessToken: claims must be an object')
  }
  if (format === 'opaque') {
    const exp = claims.exp
    const expSec =
      typeof exp === 'number' && Number.isFinite(exp)
        ? exp
        : Math.floor(now() / 1000) + accessTokenLifetimeSec
    return storeOpaqueToken(store, structuredClone(claims), expSec)
  }
  if (format !== 'jwt') throw new TypeError('issueAccessToken: format must be "jwt" or "opaque"')
  return keys.signWithHeader(claims, typ, header)
}

/**
 * The claims of a live access token of `server` (an opaque token it stores, or a JWT it signed
 * under its `accessTokenTyp`, not expired and not revoked), as introspection would answer them
 * without `active` and `token_type`; `undefined` for anything else.
 *
 * @throws {TypeError} when `server` was not made by `createAuthorizationServer`.
 */
export async function accessTokenClaims(
  server: AuthorizationServer,
  token: string,
): Promise<Record<string, unknown> | undefined> {
  const { keys, store, typ, now } = serverInternals(server)
  const live = await new TokenLookup({ keys, store, now, typ }).find(token)
  return live === undefined ? undefined : { ...live.claims }
}
