/**
 * The random values of dynamic client registration (client ids, client secrets, registration
 * access tokens) and how they are kept: as SHA-256 digests, compared in constant time.
 *
 * @module registration-tokens
 */
import { randomBytes, timingSafeEqual } from 'node:crypto'
import { secretDigest } from './secret-hash.js'

/** A new `client_id`: 128 random bits, base64url (22 characters). */
export function newClientId(): string {
  return randomBytes(16).toString('base64url')
}

/** A new client secret or registration access token: 256 random bits, base64url (43 characters). */
export function newSecretToken(): string {
  return randomBytes(32).toString('base64url')
}

/** The stored form of a secret or token: its SHA-256 digest, base64url (43 characters). */
export function tokenDigest(token: string): string {
  return secretDigest(token)
}

/** Compared against when there is nothing to compare with, so that a miss costs what a hit does. */
const DUMMY_DIGEST = Buffer.alloc(32)

/**
 * Whether `presented` is one of the tokens whose digests are `digests`. Every digest is compared,
 * in constant time; an empty list costs one comparison and answers `false`.
 */
export function digestMatches(presented: string, digests: readonly string[]): boolean {
  const candidate = Buffer.from(tokenDigest(presented), 'base64url')
  let matched = false
  for (const digest of digests.length === 0 ? [undefined] : digests) {
    const stored = digest === undefined ? DUMMY_DIGEST : Buffer.from(digest, 'base64url')
    // A malformed stored digest (wrong length) never matches, and must not throw.
    const equal = stored.length === candidate.length && timingSafeEqual(candidate, stored)
    // The comparison runs before `||`: every digest is compared whichever one matches.
    matched = (equal && digest !== undefined) || matched
  }
  return matched
}
