/**
 * X.509 certificates made at test time with @peculiar/x509 (a maintained X.509 library on
 * WebCrypto): a test never ships a certificate that expires under it.
 */
import 'reflect-metadata'
import { KeyObject, webcrypto } from 'node:crypto'
import * as x509 from '@peculiar/x509'

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0])

/** A key pair and the certificate of its public key. */
export interface TestCertificate {
  /** The certificate, PEM. */
  pem: string
  /** The certificate as @peculiar/x509 parsed it, for independent thumbprints. */
  certificate: x509.X509Certificate
  /** The private key. */
  privateKey: KeyObject
  /** The key pair as WebCrypto keys (to sign other certificates with). */
  keys: webcrypto.CryptoKeyPair
}

const ALGORITHMS = {
  ES256: { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' },
  PS256: {
    name: 'RSA-PSS',
    modulusLength: 2048,
    publicExponent: new Uint8Array([1, 0, 1]),
    hash: 'SHA-256',
    saltLength: 32,
  },
  RS256: {
    name: 'RSASSA-PKCS1-v1_5',
    modulusLength: 2048,
    publicExponent: new Uint8Array([1, 0, 1]),
    hash: 'SHA-256',
  },
} as const

/** A self-signed certificate (valid from an hour ago for a day) for a new key of `alg`. */
export async function selfSignedCertificate(
  alg: keyof typeof ALGORITHMS,
  subject = 'CN=oauth-m2m test client',
  issuer?: TestCertificate,
): Promise<TestCertificate> {
  const algorithm = ALGORITHMS[alg]
  const keys = (await webcrypto.subtle.generateKey(algorithm, true, [
    'sign',
    'verify',
  ])) as webcrypto.CryptoKeyPair
  const validity = {
    notBefore: new Date(Date.now() - 3_600_000),
    notAfter: new Date(Date.now() + 86_400_000),
  }
  const certificate =
    issuer === undefined
      ? await x509.X509CertificateGenerator.createSelfSigned({
          serialNumber: '01',
          name: subject,
          ...validity,
          signingAlgorithm: algorithm,
          keys,
        })
      : await x509.X509CertificateGenerator.create({
          serialNumber: '02',
          subject,
          issuer: issuer.certificate.subject,
          ...validity,
          signingAlgorithm: issuer.keys.privateKey.algorithm as webcrypto.Algorithm,
          publicKey: keys.publicKey,
          signingKey: issuer.keys.privateKey,
        })
  return { pem: certificate.toString('pem'), certificate, privateKey: KeyObject.from(keys.privateKey), keys }
}
