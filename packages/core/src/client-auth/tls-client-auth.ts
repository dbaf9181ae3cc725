/**
 * Mutual-TLS client authentication (RFC 8705 §2): the client proves who it is with the certificate
 * it presents in the TLS handshake, and sends only its `client_id` in the request. No secret and
 * no assertion travel. A token the server binds to the certificate (§3, `cnf["x5t#S256"]`) is then
 * useful only over a connection that presents the same certificate.
 *
 * @module client-auth/tls-client-auth
 */
import {
  type CertificateInput,
  type PrivateKeyMaterial,
  readTlsClientCertificate,
} from './tls-client-certificate.js'
import type { ClientAuthStrategy, TlsClientCertificate } from './types.js'

/** Options of {@link tlsClientAuth}. */
export interface TlsClientAuthOptions {
  /**
   * The client certificate, issued by a CA the authorization server trusts: PEM (a string or
   * Buffer; intermediates may follow the leaf) or DER (a Buffer).
   */
  cert: CertificateInput
  /** Its private key: PEM (a string or Buffer), DER (a Buffer) or a `KeyObject`; not encrypted. */
  key: PrivateKeyMaterial
  /**
   * CA certificates (PEM or DER, one or a list) to trust for the servers' certificates, in
   * addition to Node's default roots: for an authorization server, and resource servers, behind a
   * private CA. Default: the default roots only.
   */
  ca?: CertificateInput | readonly CertificateInput[]
}

/** Options of {@link selfSignedTlsClientAuth}. */
export interface SelfSignedTlsClientAuthOptions {
  /** The self-signed certificate registered with the server (in the client's `jwks`, as `x5c`): PEM or DER. */
  cert: CertificateInput
  /** Its private key: PEM (a string or Buffer), DER (a Buffer) or a `KeyObject`; not encrypted. */
  key: PrivateKeyMaterial
  /** CA certificates to trust for the servers' certificates, in addition to Node's default roots. Default: none. */
  ca?: CertificateInput | readonly CertificateInput[]
}

/** A mutual-TLS strategy: {@link tlsClientAuth} or {@link selfSignedTlsClientAuth}. */
export interface TlsClientAuthStrategy extends ClientAuthStrategy {
  readonly method: 'tls_client_auth' | 'self_signed_tls_client_auth'
  /** The certificate it presents, and its thumbprint. */
  readonly tls: TlsClientCertificate
}

function strategy(method: TlsClientAuthStrategy['method'], tls: TlsClientCertificate): TlsClientAuthStrategy {
  return Object.freeze({
    method,
    tls,
    // RFC 8705 §2: the certificate authenticates; client_id says which client it should match.
    async apply(request, context) {
      request.body.set('client_id', context.clientId)
      return { sensitive: [] }
    },
  } satisfies TlsClientAuthStrategy)
}

/**
 * `tls_client_auth` (RFC 8705 §2.1, PKI mutual TLS): the certificate is issued by a CA the server
 * trusts, and matched against the subject DN or SAN the client registered. Token requests present
 * it through an undici `Agent` with these TLS options (`cert`, `key`, `ca`), and carry `client_id`.
 *
 * ```ts
 * auth: tlsClientAuth({ cert: readFileSync('client.crt'), key: readFileSync('client.key') })
 * ```
 *
 * Given a `dispatcher` of its own, the token client sends through that instead, and it must
 * present the certificate: `new Agent({ connect: auth.tls.connectOptions() })`.
 *
 * @throws {ConfigurationError} when the certificate or the key cannot be read, or the key is not
 *   the certificate's. Messages never hold key material.
 */
export function tlsClientAuth(options: TlsClientAuthOptions): TlsClientAuthStrategy {
  return strategy('tls_client_auth', readTlsClientCertificate(options, 'tlsClientAuth'))
}

/**
 * `self_signed_tls_client_auth` (RFC 8705 §2.2): the client presents a self-signed certificate it
 * registered in its `jwks` (as `x5c`); the server matches the certificate itself, with no CA.
 * Token requests present it through an undici `Agent`, and carry `client_id`.
 *
 * @throws {ConfigurationError} when the certificate or the key cannot be read, or the key is not
 *   the certificate's. Messages never hold key material.
 */
export function selfSignedTlsClientAuth(options: SelfSignedTlsClientAuthOptions): TlsClientAuthStrategy {
  return strategy('self_signed_tls_client_auth', readTlsClientCertificate(options, 'selfSignedTlsClientAuth'))
}
