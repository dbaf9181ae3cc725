/**
 * Finds a live access token of this server from its string, whatever its format: a JWT signed by
 * a published key, not expired, not revoked; or an opaque token present in the store.
 *
 * @module token-lookup
 */
import { looksOpaque, opaqueTokenHash } from './opaque-tokens.js'
import type { ServerStore, StoredTokenClaims } from './server-store.js'
import { verifyOwnJwt } from './signing/jwt-signer.js'
import type { SigningKeySet } from './signing/signing-key-set.js'

/** A live token and how to revoke it. */
export interface LiveToken {
  readonly claims: StoredTokenClaims
  /**
   * Makes the token inactive until it would have expired anyway; `StoreFull` when the store
   * has no room to remember that without forgetting another revocation.
   */
  revoke(): ReturnType<ServerStore['revokeJti']>
}

/** Whether claims with this `exp` and `nbf` are valid at `nowSec` (an opaque token may lack `exp`). */
function inForce(claims: Readonly<Record<string, unknown>>, nowSec: number): boolean {
  const { exp, nbf } = claims
  if (exp !== undefined && (typeof exp !== 'number' || exp <= nowSec)) return false
  return nbf === undefined || (typeof nbf === 'number' && nbf <= nowSec)
}

/** What {@link TokenLookup} needs. */
export interface TokenLookupOptions {
  keys: SigningKeySet
  store: ServerStore
  /** The server's clock, epoch ms: a token is live from its `nbf` until its `exp` by it. */
  now: () => number
  /** The `typ` header the server writes on JWTs (`null`: none). */
  typ: string | null
}

/** Looks access tokens up for introspection and revocation. */
export class TokenLookup {
  readonly #options: TokenLookupOptions

  constructor(options: TokenLookupOptions) {
    this.#options = options
  }

  /**
   * The live token `token` is, or `undefined` for anything else (garbage included). A JWT is the
   * server's when one of its published keys signed it under the configured `typ`: its claims are
   * then whatever was signed (a `beforeSign` hook may have shaped them), and it must have an `exp`.
   */
  async find(token: string): Promise<LiveToken | undefined> {
    const { keys, store, now, typ } = this.#options
    const nowSec = now() / 1000
    if (looksOpaque(token)) {
      const hash = opaqueTokenHash(token)
      const claims = await store.findOpaqueToken(hash)
      if (claims === undefined || !inForce(claims, nowSec)) return undefined
      return { claims, revoke: () => store.deleteOpaqueToken(hash) }
    }
    const claims = verifyOwnJwt(token, keys, typ)
    if (claims === undefined || typeof claims.exp !== 'number' || !inForce(claims, nowSec)) return undefined
    // A hook may have removed `jti`: the token's own digest then stands for it.
    const revocationId = typeof claims.jti === 'string' ? claims.jti : `#${opaqueTokenHash(token)}`
    if (await store.isJtiRevoked(revocationId)) return undefined
    const expiresAtMs = claims.exp * 1000
    return { claims, revoke: () => store.revokeJti(revocationId, expiresAtMs) }
  }
}
