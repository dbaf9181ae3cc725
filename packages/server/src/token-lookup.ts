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

function isJwtClaims(
  payload: Record<string, unknown>,
  issuer: string,
): payload is StoredTokenClaims & Record<string, unknown> {
  const aud = payload.aud
  return (
    payload.iss === issuer &&
    typeof payload.exp === 'number' &&
    typeof payload.iat === 'number' &&
    typeof payload.jti === 'string' &&
    typeof payload.sub === 'string' &&
    typeof payload.client_id === 'string' &&
    typeof payload.scope === 'string' &&
    (typeof aud === 'string' || (Array.isArray(aud) && aud.every((a) => typeof a === 'string')))
  )
}

/** Looks access tokens up for introspection and revocation. */
export class TokenLookup {
  readonly #issuer: string
  readonly #keys: SigningKeySet
  readonly #store: ServerStore
  readonly #now: () => number

  /** @param now The server's clock, epoch ms: a token is live until its `exp` by it. */
  constructor(issuer: string, keys: SigningKeySet, store: ServerStore, now: () => number) {
    this.#issuer = issuer
    this.#keys = keys
    this.#store = store
    this.#now = now
  }

  /** The live token `token` is, or `undefined` for anything else (garbage included). */
  async find(token: string): Promise<LiveToken | undefined> {
    const nowSec = this.#now() / 1000
    if (looksOpaque(token)) {
      const hash = opaqueTokenHash(token)
      const claims = await this.#store.findOpaqueToken(hash)
      if (claims === undefined || claims.exp <= nowSec) return undefined
      return { claims, revoke: () => this.#store.deleteOpaqueToken(hash) }
    }
    const payload = verifyOwnJwt(token, this.#keys)
    if (payload === undefined || !isJwtClaims(payload, this.#issuer) || payload.exp <= nowSec)
      return undefined
    if (await this.#store.isJtiRevoked(payload.jti)) return undefined
    const { iss, sub, client_id, aud, scope, iat, exp, jti } = payload
    return {
      claims: { iss, sub, client_id, aud, scope, iat, exp, jti },
      revoke: () => this.#store.revokeJti(jti, exp * 1000),
    }
  }
}
