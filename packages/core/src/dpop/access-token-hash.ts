/**
 * The `ath` claim of a DPoP proof (RFC 9449 §4.2): the proof names the access token it travels with.
 *
 * @module dpop/access-token-hash
 */
import { createHash } from 'node:crypto'

/**
 * `ath` for an access token: base64url (no padding) of the SHA-256 of the token's ASCII octets
 * (RFC 9449 §4.2). A proof sent to a resource server carries it, so a proof captured with one
 * token cannot be used with another.
 *
 * @param accessToken - the access token exactly as sent in `Authorization: DPoP <token>`.
 * @returns the 43-character base64url hash.
 */
export function accessTokenHash(accessToken: string): string {
  // Access tokens are ASCII (RFC 6750 §2.1 b64token), for which UTF-8 is the ASCII octets; for
  // anything else UTF-8 still maps distinct strings to distinct octets, unlike latin1.
  return createHash('sha256').update(accessToken, 'utf8').digest('base64url')
}
