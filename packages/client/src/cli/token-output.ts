/**
 * What `m2m-token` prints on stdout for a token: the access token alone, the token endpoint's
 * JSON answer (`--json`), or a JWT's header and claims (`--decode`).
 *
 * @module cli/token-output
 */
import { decodeJwt, decodeProtectedHeader } from 'jose'
import type { TokenSet } from '../token-set.js'
import { NotAJwtError } from './cli-errors.js'

/** How to print the token. */
export interface TokenOutputOptions {
  /** The token endpoint's whole answer plus `expires_at`, or with `decode` the decoded JWT, as JSON. */
  json: boolean
  /** The JWT's header and claims instead of the token. */
  decode: boolean
  /**
   * The token came from the on-disk cache: the `expires_in` it was issued with is then out of
   * date and is replaced by the seconds it has left.
   */
  fromCache: boolean
  /** Now, epoch ms. */
  nowMs: number
}

/**
 * The text printed on stdout for `token`.
 *
 * @throws {NotAJwtError} when `decode` is asked for and the access token is not a signed JWT.
 */
export function tokenOutput(token: TokenSet, options: TokenOutputOptions): string {
  if (options.decode) {
    let decoded: { header: unknown; claims: unknown }
    try {
      // Decoded, not verified: only the first two parts are read, and the signature is never
      // printed.
      decoded = { header: decodeProtectedHeader(token.accessToken), claims: decodeJwt(token.accessToken) }
    } catch {
      throw new NotAJwtError()
    }
    return `${JSON.stringify(decoded, null, 2)}\n`
  }
  if (options.json) {
    // Epoch seconds, like a JWT's exp: when this client counts the token as expired, which is
    // also bounded by maxLifetimeSec.
    const expiresAt = Math.floor(token.expiresAt / 1000)
    const answer: Record<string, unknown> = { ...token.response, expires_at: expiresAt }
    if (options.fromCache)
      answer.expires_in = Math.max(0, Math.floor((token.expiresAt - options.nowMs) / 1000))
    return `${JSON.stringify(answer, null, 2)}\n`
  }
  return `${token.accessToken}\n`
}
