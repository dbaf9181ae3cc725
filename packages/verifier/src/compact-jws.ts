/**
 * Splitting and decoding a compact JWS (RFC 7515 §7.1) without trusting any of it yet.
 *
 * Base64url segments are decoded with jose's decoder so that exactly the encodings jose accepts
 * are accepted here; JSON must be strict UTF-8 and a top-level object.
 *
 * @module compact-jws
 */
import { InvalidTokenError } from '@oauth-m2m/core'
// The decoder alone (jose/base64url), not jose's index, which would add jose's whole import cost.
import { decode as decodeBase64url } from 'jose/base64url'

/** The three parts of a compact JWS, decoded as far as is safe before the signature is checked. */
export interface CompactJws {
  /** The decoded protected header. */
  header: Record<string, unknown>
  /** The payload segment, still base64url-encoded. */
  encodedPayload: string
  /** The ASCII bytes of `header.payload`, which the signature covers. */
  signingInput: Uint8Array
  /** The decoded signature. */
  signature: Uint8Array
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true })

function decodeSegment(segment: string, part: string): Uint8Array {
  try {
    return decodeBase64url(segment)
  } catch {
    throw new InvalidTokenError(`the token's ${part} is not valid base64url`)
  }
}

/** Decodes a base64url segment holding a JSON object (a JWS header or a JWT claims set). */
export function decodeJsonSegment(segment: string, part: string): Record<string, unknown> {
  let value: unknown
  try {
    value = JSON.parse(strictUtf8.decode(decodeSegment(segment, part)))
  } catch (cause) {
    if (cause instanceof InvalidTokenError) throw cause
    throw new InvalidTokenError(`the token's ${part} is not a JSON object`)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidTokenError(`the token's ${part} is not a JSON object`)
  }
  return value as Record<string, unknown>
}

/**
 * Splits `token` at its two dots and decodes the header and signature.
 * `token` must already be known to hold exactly two dots and only ASCII characters.
 */
export function parseCompactJws(token: string): CompactJws {
  const firstDot = token.indexOf('.')
  const lastDot = token.lastIndexOf('.')
  const header = decodeJsonSegment(token.slice(0, firstDot), 'header')
  const encodedPayload = token.slice(firstDot + 1, lastDot)
  const signature = decodeSegment(token.slice(lastDot + 1), 'signature')
  return {
    header,
    encodedPayload,
    signingInput: Buffer.from(token.slice(0, lastDot), 'latin1'),
    signature,
  }
}
