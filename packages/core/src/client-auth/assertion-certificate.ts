/**
 * The X.509 certificate that goes with a `private_key_jwt` key, for authorization servers that
 * register certificates rather than JWKs (Entra ID, AD FS, several banks' FAPI servers): the
 * assertion names the certificate in its header by SHA-256 thumbprint (`x5t#S256`, RFC 7515
 * §4.1.8), optionally by SHA-1 thumbprint (`x5t`, §4.1.7, what older Entra ID and AD FS read) and
 * with the chain itself (`x5c`, §4.1.6). Parsing is node:crypto's `X509Certificate`.
 *
 * @module client-auth/assertion-certificate
 */
import { createHash, createPrivateKey, type JsonWebKeyInput, KeyObject, X509Certificate } from 'node:crypto'
import type { CryptoKey, JWK } from 'jose'
import { ConfigurationError } from '../errors.js'

/** How the certificate is named in the assertion header. */
export interface AssertionCertificateOptions {
  /** The certificate, PEM; a chain (leaf first) may follow it. */
  certificate: string
  /** Also send the SHA-1 thumbprint as `x5t` (older Entra ID endpoints, AD FS). Default `false`. */
  x5t?: boolean
  /** Also send the certificate chain as `x5c` (Entra ID's subject-name/issuer authentication). Default `false`. */
  x5c?: boolean
}

/** Header members that name the certificate. */
export interface CertificateHeader {
  'x5t#S256': string
  x5t?: string
  x5c?: string[]
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g

function parseChain(pem: string): X509Certificate[] {
  const blocks = typeof pem === 'string' ? (pem.match(PEM_CERTIFICATE) ?? []) : []
  if (blocks.length === 0) {
    throw new ConfigurationError('privateKeyJwt: certificate must be a PEM certificate (BEGIN CERTIFICATE)')
  }
  return blocks.map((block, index) => {
    try {
      return new X509Certificate(block)
    } catch (cause) {
      throw new ConfigurationError(`privateKeyJwt: certificate ${index + 1} of the PEM cannot be parsed`, {
        cause,
      })
    }
  })
}

function asKeyObject(key: CryptoKey | KeyObject | JWK): KeyObject {
  if ('asymmetricKeyType' in key) return key as KeyObject
  if ('algorithm' in key && 'usages' in key)
    return KeyObject.from(key as Parameters<typeof KeyObject.from>[0])
  return createPrivateKey({ key: key as JsonWebKeyInput['key'], format: 'jwk' })
}

/**
 * The header members that name `options.certificate`, after checking that the certificate's
 * public key belongs to `privateKey` (a mismatch would only fail at the server, much later).
 *
 * @throws {ConfigurationError} when the PEM holds no parsable certificate or the key does not match it.
 */
export function certificateHeader(
  privateKey: CryptoKey | KeyObject | JWK,
  options: AssertionCertificateOptions,
): CertificateHeader {
  const chain = parseChain(options.certificate)
  const leaf = chain[0] as X509Certificate
  if (!leaf.checkPrivateKey(asKeyObject(privateKey))) {
    throw new ConfigurationError(
      "privateKeyJwt: the certificate's public key does not belong to the private key",
    )
  }
  const header: CertificateHeader = { 'x5t#S256': createHash('sha256').update(leaf.raw).digest('base64url') }
  if (options.x5t === true) header.x5t = createHash('sha1').update(leaf.raw).digest('base64url')
  // RFC 7515 §4.1.6: standard base64 (not base64url) of each DER certificate, leaf first.
  if (options.x5c === true) header.x5c = chain.map((certificate) => certificate.raw.toString('base64'))
  return header
}
