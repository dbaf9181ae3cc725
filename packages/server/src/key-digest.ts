/**
 * Fixed-size keys for in-memory tables whose keys come from requests (client ids, assertion
 * `jti`s, source addresses): whatever their length, an entry costs the same memory.
 *
 * @module key-digest
 */
import { hash } from 'node:crypto'

/**
 * The SHA-256 digest (base64url, 43 characters) of `parts`, JSON-encoded so that the tuple stays
 * unambiguous whatever characters the parts hold.
 */
export function keyDigest(...parts: string[]): string {
  return hash('sha256', JSON.stringify(parts), 'base64url')
}
