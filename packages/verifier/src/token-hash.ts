/**
 * The key under which a token's verdict is cached: a SHA-256 digest, so that the caches never hold
 * a usable token.
 *
 * @module token-hash
 */
import { hash } from 'node:crypto'

/**
 * SHA-256 of the token, base64-encoded. One-shot `crypto.hash` (Node ≥ 20.12) skips the Hash
 * object: on a cache hit this digest is most of the cost of `verify()`.
 */
export function hashToken(token: string): string {
  return hash('sha256', token, 'base64')
}
