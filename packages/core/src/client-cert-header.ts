/**
 * The RFC 9440 `Client-Cert` header a TLS-terminating proxy adds, and the certificate thumbprint
 * a certificate-bound token names (RFC 8705 §3.1, `x5t#S256`). Shared by the server (mutual-TLS
 * client authentication behind a proxy) and the verifier (certificate-bound tokens behind one),
 * so that both read the header by the same strict grammar.
 *
 * The header is an RFC 8941 Item whose bare item is a Byte Sequence (`:` base64 of the DER
 * certificate `:`), parameters allowed after it. A value that does not parse (including two
 * headers joined with ", "), or whose bytes are not exactly one DER certificate, holds no
 * certificate: RFC 8941 §4.2 has a field that fails to parse ignored. The caller decides what a
 * request without a certificate gets; the header is only ever read from a trusted proxy.
 *
 * @module client-cert-header
 */
import { createHash, X509Certificate } from 'node:crypto'
import { LRUCache } from 'lru-cache'

/** RFC 8941 §3.1.2 parameters: `;key` or `;key=bare-item`, each bare item's grammar (§3.3). */
const PARAMETERS =
  /^(?:;[ ]*[a-z*][a-z0-9_.*-]*(?:=(?:-?\d{1,15}(?:\.\d{1,3})?|"(?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\])*"|[A-Za-z*][!#$%&'*+.^_`|~0-9A-Za-z:/-]*|:[A-Za-z0-9+/=]*:|\?[01]))?)*$/

/** RFC 8941 §3.3.5: base64 with its padding, `=` only at the end (absent padding is accepted, §4.2.7). */
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/

/**
 * Parsed values: behind a proxy every request of a client carries the same header. Bounded by
 * count and by the characters held, as values come from the network (through a trusted proxy).
 */
const parsed = new LRUCache<string, X509Certificate | false>({
  max: 1024,
  maxSize: 4 * 1024 * 1024,
  sizeCalculation: (_value, key) => key.length || 1,
})

/**
 * The certificate a `Client-Cert` header value holds (RFC 9440 §2.2), or `undefined` when it
 * holds none: no value, not an RFC 8941 Byte Sequence item, base64 that is not canonical, or
 * bytes that are not exactly one DER certificate.
 *
 * @param value The header's value as received; repeats joined with ", " (which then fail to parse).
 */
export function parseClientCertHeader(value: string | undefined): X509Certificate | undefined {
  if (value === undefined) return undefined
  const cached = parsed.get(value)
  if (cached !== undefined) return cached === false ? undefined : cached
  const certificate = parseUncached(value)
  parsed.set(value, certificate ?? false)
  return certificate
}

function parseUncached(value: string): X509Certificate | undefined {
  // RFC 8941 §4.2: leading and trailing spaces are discarded.
  const item = value.replace(/^ +| +$/g, '')
  if (!item.startsWith(':')) return undefined
  const end = item.indexOf(':', 1)
  if (end === -1) return undefined
  const base64 = item.slice(1, end)
  if (base64 === '' || !BASE64.test(base64) || !PARAMETERS.test(item.slice(end + 1))) return undefined
  const der = Buffer.from(base64, 'base64')
  let certificate: X509Certificate
  try {
    certificate = new X509Certificate(der)
  } catch {
    return undefined
  }
  // Bytes after the certificate would go unread: the value is then not one DER certificate.
  return certificate.raw.length === der.length ? certificate : undefined
}

/** Thumbprints by certificate object: a TLS connection or a cached header keeps one object. */
const thumbprints = new WeakMap<X509Certificate, string>()

/**
 * The certificate's SHA-256 thumbprint, base64url without padding, over its DER encoding: the
 * `x5t#S256` of a token bound to it (RFC 8705 §3.1) and of a JWK's `x5c` (RFC 7517 §4.9).
 *
 * @param certificate The certificate, or its DER bytes.
 */
export function certificateThumbprint(certificate: X509Certificate | Uint8Array): string {
  if (!(certificate instanceof X509Certificate)) {
    return createHash('sha256').update(certificate).digest('base64url')
  }
  let thumbprint = thumbprints.get(certificate)
  if (thumbprint === undefined) {
    thumbprint = createHash('sha256').update(certificate.raw).digest('base64url')
    thumbprints.set(certificate, thumbprint)
  }
  return thumbprint
}
