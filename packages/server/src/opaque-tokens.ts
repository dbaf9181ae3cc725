/**
 * Opaque access tokens: 256 random bits, base64url. Only the SHA-256 hash of a token is stored,
 * so a leaked store does not leak usable tokens.
 *
 * @module opaque-tokens
 */
import { hash, randomBytes } from 'node:crypto'

/** A new opaque access token (43 base64url characters). */
export function newOpaqueToken(): string {
  return randomBytes(32).toString('base64url')
}

/** The key an opaque token is stored under: its SHA-256 digest, base64url. */
export function opaqueTokenHash(token: string): string {
  return hash('sha256', token, 'base64url')
}

/** Whether `token` has the shape of an opaque token of this server (and not of a JWT). */
export function looksOpaque(token: string): boolean {
  return token.length === 43 && /^[A-Za-z0-9_-]+$/.test(token)
}
