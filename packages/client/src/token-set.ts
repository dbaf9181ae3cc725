/**
 * What a successful token request yields.
 *
 * @module token-set
 */

/**
 * An access token and what is known about it. Times are epoch milliseconds on this machine's
 * clock. A `TokenSet` is a plain, JSON-serialisable object so that shared stores can keep it; it
 * holds the access token, so never log it.
 */
export interface TokenSet {
  /**
   * The access token, sent as `Authorization: Bearer <accessToken>`, or for a `DPoP` token as
   * `Authorization: DPoP <accessToken>` with a DPoP proof of the client's key.
   */
  accessToken: string
  /**
   * `Bearer`, or `DPoP` for a token bound to the client's DPoP key (RFC 9449, the `dpop` option).
   * Without `dpop` only `Bearer` is accepted; with it only `DPoP`, unless `dpop.allowBearerFallback`.
   */
  tokenType: 'DPoP' | 'Bearer'
  /** When the request that obtained the token was sent (taken before sending), epoch ms. */
  issuedAt: number
  /**
   * When the token expires, epoch ms: `issuedAt + expires_in`, else the JWT's `exp`, else
   * `issuedAt + defaultExpiresInSec`; never later than `issuedAt + maxLifetimeSec`.
   */
  expiresAt: number
  /** Granted scope (space-separated): the server's `scope`, or the requested one when it sent none. */
  scope: string | undefined
  /** The token endpoint's whole JSON answer, for extension fields. */
  response: Readonly<Record<string, unknown>>
}
