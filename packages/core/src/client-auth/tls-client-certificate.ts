/**
 * Reading the certificate and private key of a mutual-TLS client (RFC 8705) once, when the
 * strategy is created: PEM or DER, a chain or one certificate, a key as PEM, DER or `KeyObject`.
 * What comes out is what a TLS handshake needs (PEM text) and the certificate's SHA-256
 * thumbprint, which a bound token carries. Parsing is node:crypto's; errors never quote the key.
 *
 * @module client-auth/tls-client-certificate
 */
import { createHash, createPrivateKey, KeyObject, X509Certificate } from 'node:crypto'
import { rootCertificates } from 'node:tls'
import { ConfigurationError } from '../errors.js'
import type { TlsClientCertificate, TlsConnectOptions } from './types.js'

/** A certificate: PEM text (a string or its bytes; a chain, leaf first, may follow) or DER bytes. */
export type CertificateInput = string | Uint8Array

/**
 * A private key: PEM text (PKCS#8, PKCS#1 or SEC1; a string or its bytes), DER bytes (PKCS#8,
 * PKCS#1 or SEC1), or a `node:crypto` `KeyObject`. An encrypted key is decrypted first, with
 * `createPrivateKey({ key, passphrase })`.
 */
export type PrivateKeyMaterial = string | Uint8Array | KeyObject

/** What {@link readTlsClientCertificate} reads. */
export interface TlsClientCertificateInput {
  /** The client certificate; for `tls_client_auth` its chain up to (not including) the CA may follow. */
  cert: CertificateInput
  /** The certificate's private key. */
  key: PrivateKeyMaterial
  /** Certificates to trust for the server's certificate, in addition to Node's default roots. */
  ca?: CertificateInput | readonly CertificateInput[] | undefined
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g
const PEM_MARKER = '-----BEGIN '

function isBytes(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array
}

/** The certificates of `input`, each parsed. */
function parseCertificates(input: unknown, what: string, owner: string): X509Certificate[] {
  const text =
    typeof input === 'string' ? input : isBytes(input) ? Buffer.from(input).toString('latin1') : undefined
  if (text === undefined) {
    throw new ConfigurationError(`${owner}: ${what} must be an X.509 certificate: PEM text or DER bytes`)
  }
  if (!text.includes(PEM_MARKER)) {
    if (typeof input === 'string' || text.length === 0) {
      throw new ConfigurationError(`${owner}: ${what} must be an X.509 certificate: PEM text or DER bytes`)
    }
    try {
      return [new X509Certificate(input as Uint8Array)]
    } catch (cause) {
      throw new ConfigurationError(`${owner}: ${what} is neither PEM nor a DER X.509 certificate`, { cause })
    }
  }
  const blocks = text.match(PEM_CERTIFICATE) ?? []
  if (blocks.length === 0) {
    throw new ConfigurationError(`${owner}: ${what} holds no PEM certificate (BEGIN CERTIFICATE)`)
  }
  return blocks.map((block, index) => {
    try {
      return new X509Certificate(block)
    } catch (cause) {
      throw new ConfigurationError(`${owner}: certificate ${index + 1} of ${what} cannot be parsed`, {
        cause,
      })
    }
  })
}

/** Node's error code for a key whose parsing failed, without its message (which is the key's business). */
function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : undefined
}

const DER_KEY_TYPES = ['pkcs8', 'pkcs1', 'sec1'] as const

/** A PEM key encrypted with a passphrase: PKCS#8 `ENCRYPTED PRIVATE KEY`, or OpenSSL's legacy header. */
const ENCRYPTED_PEM = /-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type:\s*4,ENCRYPTED/

class EncryptedKeyError extends Error {}

function importKey(input: string | Uint8Array): KeyObject {
  const text = typeof input === 'string' ? input : Buffer.from(input).toString('latin1')
  if (text.includes(PEM_MARKER)) {
    if (ENCRYPTED_PEM.test(text)) throw new EncryptedKeyError()
    return createPrivateKey(typeof input === 'string' ? input : Buffer.from(input))
  }
  let lastError: unknown
  for (const type of DER_KEY_TYPES) {
    try {
      return createPrivateKey({ key: Buffer.from(input), format: 'der', type })
    } catch (error) {
      lastError = error
    }
  }
  throw lastError
}

/**
 * The private key as a `KeyObject`. The errors carry no cause: a parser's message is no place to
 * risk a fragment of key material.
 */
function readPrivateKey(input: unknown, owner: string): KeyObject {
  let key: KeyObject
  if (input instanceof KeyObject) {
    key = input
  } else if (typeof input === 'string' || isBytes(input)) {
    try {
      key = importKey(input)
    } catch (error) {
      if (error instanceof EncryptedKeyError || errorCode(error) === 'ERR_MISSING_PASSPHRASE') {
        throw new ConfigurationError(
          `${owner}: the key is encrypted; decrypt it with createPrivateKey({ key, passphrase }) and pass the KeyObject`,
        )
      }
      throw new ConfigurationError(
        `${owner}: key is not a private key (PEM or DER: PKCS#8, PKCS#1 or SEC1)${errorCode(error) ? ` (${errorCode(error)})` : ''}`,
      )
    }
  } else {
    throw new ConfigurationError(`${owner}: key must be a private key: PEM text, DER bytes or a KeyObject`)
  }
  if (key.type !== 'private')
    throw new ConfigurationError(`${owner}: key is a ${key.type} key, not a private key`)
  return key
}

/**
 * Reads a client certificate and its key, checking that they belong together (a mismatch would
 * only fail in the handshake, as an unhelpful TLS alert).
 *
 * @throws {ConfigurationError} naming `owner` when the certificate, the key or a `ca` entry cannot
 *   be read, or the key is not the certificate's. No message holds key material.
 */
export function readTlsClientCertificate(
  input: TlsClientCertificateInput,
  owner: string,
): TlsClientCertificate {
  if (typeof input !== 'object' || input === null) {
    throw new ConfigurationError(`${owner}: options must be an object with cert and key`)
  }
  const chain = parseCertificates(input.cert, 'cert', owner)
  const leaf = chain[0] as X509Certificate
  const key = readPrivateKey(input.key, owner)
  if (!leaf.checkPrivateKey(key)) {
    throw new ConfigurationError(`${owner}: key is not the private key of the certificate`)
  }
  let ca: string[] | undefined
  if (input.ca !== undefined) {
    const entries = Array.isArray(input.ca) ? (input.ca as readonly unknown[]) : [input.ca]
    if (entries.length === 0) throw new ConfigurationError(`${owner}: ca must hold at least one certificate`)
    // Added to the default roots, not in their place: the same options reach resource servers,
    // whose certificates a public CA may have issued.
    ca = [
      ...rootCertificates,
      ...entries.flatMap((entry) => parseCertificates(entry, 'ca', owner)).map((c) => c.toString()),
    ]
  }
  const cert = chain.map((certificate) => certificate.toString()).join('')
  const keyPem = key.export({ type: 'pkcs8', format: 'pem' }) as string
  const thumbprint = createHash('sha256').update(leaf.raw).digest('base64url')
  return Object.freeze({
    thumbprint,
    connectOptions(): TlsConnectOptions {
      return ca === undefined ? { cert, key: keyPem } : { cert, key: keyPem, ca: [...ca] }
    },
  })
}
