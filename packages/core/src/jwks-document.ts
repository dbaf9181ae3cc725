/**
 * Validation of a JWK Set document (RFC 7517 §5) down to the public signing keys a verifier may
 * use.
 *
 * @module jwks-document
 */
import type { JWK } from 'jose'
import { deepFreeze } from './deep-freeze.js'

/**
 * Members that only a private or symmetric key has (RFC 7518 §6.2.2, §6.3.2, §6.4.1, RFC 8037 §2).
 * A published key that carries one of them is leaked or misconfigured and is never used.
 */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const

/**
 * Returns the usable keys of a JWK Set document, each frozen, or `undefined` when `document` is
 * not a JWK Set (not an object, or no `keys` array).
 *
 * A key is skipped, not fatal, when it is not an object, has no `kty`, holds private or symmetric
 * key material, or has a `use` other than `sig`: one odd entry must not take down verification
 * with all the others.
 */
export function parseJwksDocument(document: unknown): readonly JWK[] | undefined {
  if (!isObject(document) || !Array.isArray(document.keys)) return undefined
  const keys: JWK[] = []
  for (const entry of document.keys as unknown[]) {
    if (!isObject(entry) || typeof entry.kty !== 'string' || entry.kty === '') continue
    if (entry.kty === 'oct' || PRIVATE_MEMBERS.some((member) => member in entry)) continue
    if (entry.use !== undefined && entry.use !== 'sig') continue
    keys.push(deepFreeze(structuredClone(entry)) as JWK)
  }
  return Object.freeze(keys)
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
