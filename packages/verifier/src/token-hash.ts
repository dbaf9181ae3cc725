/**
 * The key under which a token's verdict is cached: a SHA-256 digest, so that the caches never hold
 * a usable token.
 *
 * @module token-hash
 */
import { createHash, hash } from 'node:crypto'

// `crypto.hash` (Node ≥ 20.12) skips the Hash object and is markedly faster for short inputs.
const sha256Base64: (token: string) => string =
  typeof hash === 'function'
    ? (token) => hash('sha256', token, 'base64')
    : (token) => createHash('sha256').update(token).digest('base64')

/** SHA-256 of the token, base64-encoded. */
export function hashToken(token: string): string {
  return sha256Base64(token)
}
