/**
 * The RFC 9440 `Client-Cert` header a TLS-terminating proxy adds: an RFC 8941 Item whose bare item
 * is a Byte Sequence (`:` base64 of the DER certificate `:`), parameters allowed after it. Read only
 * from a trusted proxy. A value that does not parse (including two headers joined with ", "), or
 * whose bytes are not exactly one DER certificate, is ignored as RFC 8941 §4.2 requires of a field
 * that fails to parse: the request then has no client certificate, and whatever needed one is
 * refused for that reason.
 *
 * @module client-cert-header
 */
import { X509Certificate } from 'node:crypto'
import { LRUCache } from 'lru-cache'

/** RFC 8941 §3.1.2 parameters: `;key` or `;key=bare-item`, each bare item's grammar (§3.3). */
const PARAMETERS =
  /^(?:;[ ]*[a-z*][a-z0-9_.*-]*(?:=(?:-?\d{1,15}(?:\.\d{1,3})?|"(?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\])*"|[A-Za-z*][!#$%&'*+.^_`|~0-9A-Za-z:/-]*|:[A-Za-z0-9+/=]*:|\?[01]))?)*$/

/** RFC 8941 §3.3.5: base64 with its padding, `=` only at the end (absent padding is accepted, §4.2.7). */
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/

/** Parsed headers by value: behind a proxy every request of a client carries the same one. */
const parsed = new LRUCache<string, X509Certificate | false>({ max: 1024 })

/** The certificate a `Client-Cert` header value holds, or `undefined` when it holds none. */
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
