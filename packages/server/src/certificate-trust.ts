/**
 * Whether a client certificate chains to a CA the operator trusts for `tls_client_auth` (RFC 8705
 * §2.1): the server option `mtls.ca`. The check is the server's own, not the TLS stack's, so that
 * it is the same whether the certificate came over the listener's TLS, from a trusted proxy's
 * `Client-Cert` header, or from a host calling `handle()`; and so that a listener can ask every
 * client for a certificate without refusing the handshake of a client that authenticates with a
 * secret.
 *
 * The presented certificate must be issued (name and signature) by one of the configured CA
 * certificates, which may be a root or an intermediate: intermediates the client sends along are
 * not used, so an intermediate CA that issues client certificates is configured itself.
 *
 * @module certificate-trust
 */
import type { X509Certificate } from 'node:crypto'
import type { PresentedCertificate } from './client-certificate.js'

/** Extended key usage `id-kp-clientAuth` (RFC 5280 §4.2.1.12) and `anyExtendedKeyUsage`. */
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2'
const ANY_USAGE = '2.5.29.37.0'

/** A configured CA certificate, its validity read once. */
interface Anchor {
  x509: X509Certificate
  notBeforeMs: number
  notAfterMs: number
}

/** Why a certificate is not trusted, in words safe to send to the client. */
export type TrustFailure = string

/** The CA certificates trusted to issue client certificates. */
export class CertificateTrust {
  readonly #anchors: readonly Anchor[]
  /** The anchor that signed each certificate already checked: the signature is checked once. */
  readonly #issuers = new WeakMap<X509Certificate, Anchor | null>()

  /** @param anchors CA certificates (checked to be CAs at configuration). */
  constructor(anchors: readonly X509Certificate[]) {
    this.#anchors = anchors.map((x509) => ({
      x509,
      notBeforeMs: Date.parse(x509.validFrom),
      notAfterMs: Date.parse(x509.validTo),
    }))
  }

  /** `undefined` when `certificate` chains to a trusted CA and both are valid at `nowMs`, else why not. */
  check(certificate: PresentedCertificate, nowMs: number): TrustFailure | undefined {
    if (nowMs < certificate.notBeforeMs) return 'the client certificate is not valid yet'
    if (nowMs > certificate.notAfterMs) return 'the client certificate has expired'
    // A CA certificate is for issuing: the CA's own, presented as a leaf, would match its CA.
    if (certificate.isCa) return 'the client certificate is a CA certificate'
    const usages = certificate.extendedKeyUsage
    if (usages !== undefined && !usages.includes(CLIENT_AUTH) && !usages.includes(ANY_USAGE)) {
      return 'the client certificate is not for TLS client authentication (extended key usage)'
    }
    const anchor = this.#issuer(certificate.x509)
    if (anchor === null) return 'the client certificate is not issued by a trusted CA'
    if (nowMs < anchor.notBeforeMs || nowMs > anchor.notAfterMs) {
      return 'the CA certificate that issued the client certificate is not valid now'
    }
    return undefined
  }

  #issuer(x509: X509Certificate): Anchor | null {
    let anchor = this.#issuers.get(x509)
    if (anchor === undefined) {
      anchor = this.#anchors.find((a) => x509.checkIssued(a.x509) && x509.verify(a.x509.publicKey)) ?? null
      this.#issuers.set(x509, anchor)
    }
    return anchor
  }
}
