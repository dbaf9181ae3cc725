import { createHash, X509Certificate } from 'node:crypto'

/**
 * A certificate's `x5t#S256` (RFC 8705 §3.1: SHA-256 of its DER, base64url), computed here with
 * node:crypto rather than by any part under test.
 */
export function thumbprintOf(pem: string): string {
  return createHash('sha256').update(new X509Certificate(pem).raw).digest('base64url')
}
