/**
 * Makes access tokens: JWTs per RFC 9068 (`typ: at+jwt`, claims iss, sub, aud, exp, iat, jti,
 * client_id, scope) signed with the current key, or opaque tokens kept in the store.
 *
 * @module token-issuer
 */
import { randomUUID } from 'node:crypto'
import type { RegisteredClient } from './client-registry.js'
import { newOpaqueToken, opaqueTokenHash } from './opaque-tokens.js'
import type { TokenTarget } from './resource.js'
import type { ServerStore, StoredTokenClaims } from './server-store.js'
import type { SigningKeySet } from './signing/signing-key-set.js'

/** Issues access tokens for one issuer. */
export class AccessTokenIssuer {
  readonly #issuer: string
  readonly #keys: SigningKeySet
  readonly #store: ServerStore
  readonly #now: () => number

  /** @param now The server's clock, epoch ms: `iat` and `exp` count from it. */
  constructor(issuer: string, keys: SigningKeySet, store: ServerStore, now: () => number) {
    this.#issuer = issuer
    this.#keys = keys
    this.#store = store
    this.#now = now
  }

  /** A new access token for `client` with `scope`, for `target`. Synchronous for JWTs. */
  issue(client: RegisteredClient, scope: string, target: TokenTarget): string | Promise<string> {
    const iat = Math.floor(this.#now() / 1000)
    const claims: StoredTokenClaims = {
      iss: this.#issuer,
      sub: client.id,
      aud: target.audience,
      exp: iat + target.lifetimeSec,
      iat,
      jti: randomUUID(),
      client_id: client.id,
      scope,
    }
    if (target.format === 'opaque') return this.#issueOpaque(claims)
    return this.#keys.sign(claims)
  }

  async #issueOpaque(claims: StoredTokenClaims): Promise<string> {
    const token = newOpaqueToken()
    await this.#store.saveOpaqueToken(opaqueTokenHash(token), claims, claims.exp * 1000)
    return token
  }
}
