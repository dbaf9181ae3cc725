/**
 * What a request to a resource server carries (for `client.fetch` and the interceptor alike):
 * `Authorization: Bearer <token>`, or for a DPoP-bound token `Authorization: DPoP <token>` plus a
 * `DPoP` proof made for this very request (RFC 9449 §7.1: its method, its URL, the token's `ath`
 * and the origin's latest nonce). A proof is made per send, so a retry never reuses one.
 *
 * @module resource-credentials
 */
import type { DpopProver } from './dpop/dpop-prover.js'
import { TokenUnavailableError } from './errors.js'
import type { TokenSet } from './token-set.js'

/** What `fetch` and the interceptor need from the token client. */
export interface AccessTokenSource {
  /** The current token for this use. */
  token(signal?: AbortSignal): Promise<TokenSet>
  /** Reports that a resource server rejected `accessToken`; it is dropped if still cached. */
  rejected(accessToken: string): void
  /** The client's DPoP state, when it uses DPoP. */
  dpop: DpopProver | undefined
}

/** The headers that authorise one send of a request. */
export interface RequestCredentials {
  /** The `Authorization` value. */
  authorization: string
  /** The `DPoP` proof, for a DPoP token. */
  dpop: string | undefined
}

/** Gets a token, or fails with {@link TokenUnavailableError}: the request is then not sent. */
export async function tokenForRequest(
  source: AccessTokenSource,
  origin: string,
  signal: AbortSignal | undefined,
): Promise<TokenSet> {
  try {
    return await source.token(signal)
  } catch (error) {
    if (signal?.aborted && error === signal.reason) throw error
    throw new TokenUnavailableError(origin, { cause: error })
  }
}

/** Whether `token` goes with a DPoP proof: a DPoP token of a DPoP client. */
export function sendsDpop(token: TokenSet, dpop: DpopProver | undefined): dpop is DpopProver {
  return token.tokenType === 'DPoP' && dpop !== undefined
}

/**
 * The credentials for one send of `method` `url` with `token`: a DPoP token gets a fresh proof
 * (with the nonce `url`'s origin gave last); a Bearer token (no DPoP, or `allowBearerFallback`)
 * goes alone. `url` may be given as a function, called only when a proof needs it.
 *
 * @throws {TypeError} when `url` is a function and the URL it builds is not valid.
 */
export function credentialsFor(
  token: TokenSet,
  dpop: DpopProver | undefined,
  method: string,
  url: URL | (() => URL),
): RequestCredentials {
  if (sendsDpop(token, dpop)) {
    const target = typeof url === 'function' ? url() : url
    return {
      authorization: `DPoP ${token.accessToken}`,
      dpop: dpop.proofFor('resource', method, target, token.accessToken),
    }
  }
  return { authorization: `Bearer ${token.accessToken}`, dpop: undefined }
}
