/**
 * The client certificate of a request (RFC 8705): the leaf the TLS peer presented, or the one a
 * trusted proxy forwarded (RFC 9440), read by node:crypto's `X509Certificate`. What the checks
 * need (thumbprint, validity, canonical subject) is derived once per certificate object: a TLS
 * connection keeps one object for all its requests.
 *
 * @module client-certificate
 */
import { createHash, X509Certificate } from 'node:crypto'
import { type CanonicalDn, nodeSubjectDn } from './subject-dn.js'

/** A presented client certificate and what the server derives from it. */
export interface PresentedCertificate {
  /** The certificate. */
  readonly x509: X509Certificate
  /** base64url SHA-256 of its DER encoding: the `x5t#S256` of a token bound to it (RFC 8705 §3.1). */
  readonly thumbprint: string
  /** Start and end of its validity period, epoch ms. */
  readonly notBeforeMs: number
  readonly notAfterMs: number
  /** Its subject in canonical form; `undefined` when unreadable (then no subject DN matches). */
  readonly subjectDn: CanonicalDn | undefined
  /** Whether it is a CA certificate (basicConstraints CA:TRUE). */
  readonly isCa: boolean
  /** Its extended key usages (OIDs); `undefined` when it has none (any use). */
  readonly extendedKeyUsage: readonly string[] | undefined
}

const presentedCertificates = new WeakMap<X509Certificate, PresentedCertificate>()

/** What the server derives from `x509`, computed on the first call for this object. */
export function presentedCertificate(x509: X509Certificate): PresentedCertificate {
  let presented = presentedCertificates.get(x509)
  if (presented === undefined) {
    presented = Object.freeze({
      x509,
      thumbprint: createHash('sha256').update(x509.raw).digest('base64url'),
      notBeforeMs: Date.parse(x509.validFrom),
      notAfterMs: Date.parse(x509.validTo),
      subjectDn: nodeSubjectDn(x509.subject),
      // node computes these getters anew on every read.
      isCa: x509.ca,
      extendedKeyUsage: x509.keyUsage,
    })
    presentedCertificates.set(x509, presented)
  }
  return presented
}

/**
 * A client certificate handed to `handle()` by its host: an `X509Certificate`, PEM text or DER
 * bytes.
 *
 * @throws {TypeError} (node's `ERR_INVALID_ARG_TYPE`) or an OpenSSL error when it is none of these.
 */
export function readHostCertificate(value: X509Certificate | string | Uint8Array): X509Certificate {
  return value instanceof X509Certificate ? value : new X509Certificate(value)
}

/** base64url SHA-256 of `der`, as `x5t#S256` and registered `x5c` certificates are compared. */
export function derThumbprint(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('base64url')
}
