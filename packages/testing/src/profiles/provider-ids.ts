/**
 * Identifiers in the shapes providers use: GUIDs derived from names (the same client always gets
 * the same object id or service-account id, as at the real provider) and random token ids.
 *
 * @module profiles/provider-ids
 */
import { createHash, randomBytes } from 'node:crypto'

/**
 * A GUID that is the same for the same `parts` (SHA-256 of them), written like a random (version
 * 4) UUID, the shape of the object ids Entra and Keycloak hand out.
 */
export function stableGuid(...parts: string[]): string {
  const hex = createHash('sha256').update(parts.join('\u0000')).digest('hex')
  const variant = ((Number.parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16)
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`
}

/** `bytes` random bytes, base64url without padding. */
export function randomId(bytes: number): string {
  return randomBytes(bytes).toString('base64url')
}
