/**
 * X.509 certificates made at test time with @peculiar/x509 (a maintained X.509 library on
 * WebCrypto): a test never ships a certificate that expires under it. Besides lone self-signed
 * certificates, a small PKI for mutual TLS (RFC 8705): a CA, server certificates for loopback and
 * client certificates with a subject DN and SANs.
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
  /** The private key, PKCS#8 PEM. */
  keyPem: string
  /** The key pair as WebCrypto keys (to sign other certificates with). */
  keys: webcrypto.CryptoKeyPair
  /** The algorithm the key is for, which certificates it issues are signed with. */
  alg: CertificateAlg
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

/** Key algorithms a test certificate can be made for. */
export type CertificateAlg = keyof typeof ALGORITHMS

async function generateKeys(alg: CertificateAlg): Promise<webcrypto.CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(ALGORITHMS[alg], true, [
    'sign',
    'verify',
  ])) as webcrypto.CryptoKeyPair
}

function testCertificate(
  certificate: x509.X509Certificate,
  keys: webcrypto.CryptoKeyPair,
  alg: CertificateAlg,
): TestCertificate {
  const privateKey = KeyObject.from(keys.privateKey)
  return {
    pem: certificate.toString('pem'),
    certificate,
    privateKey,
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    keys,
    alg,
  }
}

/** A self-signed certificate (valid from an hour ago for a day) for a new key of `alg`. */
export async function selfSignedCertificate(
  alg: CertificateAlg,
  subject = 'CN=oauth-m2m test client',
  issuer?: TestCertificate,
): Promise<TestCertificate> {
  const algorithm = ALGORITHMS[alg]
  const keys = await generateKeys(alg)
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
          signingAlgorithm: ALGORITHMS[issuer.alg],
          publicKey: keys.publicKey,
          signingKey: issuer.keys.privateKey,
        })
  return testCertificate(certificate, keys, alg)
}

/** Subject alternative names (RFC 5280 §4.2.1.6) of an issued certificate. */
export interface TestSubjectAltNames {
  dns?: string[]
  ip?: string[]
  uri?: string[]
  email?: string[]
}

/** What {@link issueCertificate} makes. */
export interface IssueCertificateOptions {
  /** Distinguished name, e.g. `CN=orders-service,O=Example`. */
  subject: string
  /** Key algorithm. Default `ES256`. */
  alg?: CertificateAlg
  /** The CA that signs it. Default: none, the certificate is self-signed. */
  issuer?: TestCertificate
  /** A CA certificate (basicConstraints CA:TRUE, keyCertSign). Default `false`. */
  ca?: boolean
  /** Subject alternative names. Default: none. */
  san?: TestSubjectAltNames
  /** What the key may authenticate as: a TLS `server`, a TLS `client`, or `both`. Default: no EKU. */
  usage?: 'server' | 'client' | 'both'
  /** Start of validity. Default an hour ago. */
  notBefore?: Date
  /** End of validity. Default a day from now. */
  notAfter?: Date
}

const EKU: Record<NonNullable<IssueCertificateOptions['usage']>, string[]> = {
  server: [x509.ExtendedKeyUsage.serverAuth],
  client: [x509.ExtendedKeyUsage.clientAuth],
  both: [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth],
}

function generalNames(san: TestSubjectAltNames): x509.JsonGeneralNames {
  return [
    ...(san.dns ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(san.ip ?? []).map((value) => ({ type: 'ip' as const, value })),
    ...(san.uri ?? []).map((value) => ({ type: 'url' as const, value })),
    ...(san.email ?? []).map((value) => ({ type: 'email' as const, value })),
  ]
}

/**
 * A certificate with the extensions TLS stacks check: a CA (OpenSSL accepts an issuer only with
 * basicConstraints CA:TRUE), a server certificate whose SAN names the host, a client certificate
 * with SANs a server matches against `tls_client_auth_san_*`. Serial numbers are random.
 */
export async function issueCertificate(options: IssueCertificateOptions): Promise<TestCertificate> {
  const alg = options.alg ?? 'ES256'
  const keys = await generateKeys(alg)
  const extensions: x509.Extension[] = []
  if (options.ca === true) {
    extensions.push(new x509.BasicConstraintsExtension(true, undefined, true))
    extensions.push(
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    )
  } else {
    extensions.push(new x509.BasicConstraintsExtension(false, undefined, true))
    extensions.push(new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true))
  }
  if (options.usage !== undefined) extensions.push(new x509.ExtendedKeyUsageExtension(EKU[options.usage]))
  if (options.san !== undefined)
    extensions.push(new x509.SubjectAlternativeNameExtension(generalNames(options.san)))
  extensions.push(await x509.SubjectKeyIdentifierExtension.create(keys.publicKey))
  const validity = {
    notBefore: options.notBefore ?? new Date(Date.now() - 3_600_000),
    notAfter: options.notAfter ?? new Date(Date.now() + 86_400_000),
  }
  const issuer = options.issuer
  const certificate =
    issuer === undefined
      ? await x509.X509CertificateGenerator.createSelfSigned({
          name: options.subject,
          ...validity,
          signingAlgorithm: ALGORITHMS[alg],
          keys,
          extensions,
        })
      : await x509.X509CertificateGenerator.create({
          subject: options.subject,
          issuer: issuer.certificate.subject,
          ...validity,
          signingAlgorithm: ALGORITHMS[issuer.alg],
          publicKey: keys.publicKey,
          signingKey: issuer.keys.privateKey,
          extensions,
        })
  return testCertificate(certificate, keys, alg)
}

/** A CA and a server certificate it issued for the loopback listener (`127.0.0.1`, `localhost`). */
export interface TestPki {
  /** The CA: servers trust client certificates it issued, clients trust the server's. */
  ca: TestCertificate
  /** The server's certificate, SAN `IP:127.0.0.1`, `IP:::1` and `DNS:localhost`. */
  server: TestCertificate
  /** A client certificate issued by `ca` for `subject`, with `san` (default: none). */
  client(subject: string, san?: TestSubjectAltNames, alg?: CertificateAlg): Promise<TestCertificate>
}

/** A fresh test PKI: one CA and a loopback server certificate. */
export async function testPki(name = 'oauth-m2m test CA'): Promise<TestPki> {
  const ca = await issueCertificate({ subject: `CN=${name}`, ca: true })
  const server = await issueCertificate({
    subject: 'CN=localhost',
    issuer: ca,
    usage: 'server',
    san: { ip: ['127.0.0.1', '::1'], dns: ['localhost'] },
  })
  return {
    ca,
    server,
    client: (subject, san, alg) =>
      issueCertificate({
        subject,
        issuer: ca,
        usage: 'client',
        ...(san ? { san } : {}),
        ...(alg ? { alg } : {}),
      }),
  }
}
