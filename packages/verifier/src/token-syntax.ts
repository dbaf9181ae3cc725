/**
 * The checks every token passes before any decoding: a length cap and the RFC 6750 §2.1
 * `b64token` syntax, then the choice between the JWT path and introspection.
 *
 * @module token-syntax
 */
import { InvalidTokenError } from '@oauth-m2m/core'
import { isB64Token } from '@oauth-m2m/core/internal'

/** Default cap on a token's length, in characters (16 KiB); see `maxTokenLength`. */
export const DEFAULT_MAX_TOKEN_LENGTH = 16 * 1024

/** How a syntactically valid token is to be checked. */
export type TokenKind = 'jwt' | 'opaque'

/**
 * Refuses what cannot be a bearer token and says whether it looks like a compact JWS (exactly
 * three dot-separated segments). The length is checked first, so a huge input costs nothing.
 *
 * @throws {InvalidTokenError} for an empty, oversized or syntactically invalid token.
 */
export function classifyToken(token: unknown, maxLength: number): TokenKind {
  if (typeof token !== 'string' || token.length === 0) throw new InvalidTokenError('no token was given')
  if (token.length > maxLength) {
    throw new InvalidTokenError(`the token is longer than ${maxLength} characters`)
  }
  if (!isB64Token(token))
    throw new InvalidTokenError('the token contains characters a bearer token cannot have')
  const firstDot = token.indexOf('.')
  if (firstDot === -1) return 'opaque'
  const secondDot = token.indexOf('.', firstDot + 1)
  return secondDot !== -1 && token.indexOf('.', secondDot + 1) === -1 ? 'jwt' : 'opaque'
}
