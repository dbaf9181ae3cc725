/**
 * Scaffolding, not the lesson: a throwaway PKI for the local run, made at start with @peculiar/x509
 * (a maintained X.509 library on WebCrypto). A real deployment already has one: a CA that issues
 * service certificates (SPIFFE, a service mesh, an internal CA) and server certificates.
 */
import 'reflect-metadata'
import { KeyObject, webcrypto } from 'node:crypto'
import * as x509 from '@peculiar/x509'

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0])

const ES256 = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const

/** A certificate and its private key, PEM. */
export interface Issued {
  cert: string
  key: string
}

interface Authority {
  certificate: x509.X509Certificate
  keys: webcrypto.CryptoKeyPair
}

async function newKeys(): Promise<webcrypto.CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(ES256, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair
}

function pem(certificate: x509.X509Certificate, keys: webcrypto.CryptoKeyPair): Issued {
  const key = KeyObject.from(keys.privateKey).export({ type: 'pkcs8', format: 'pem' }) as string
  return { cert: certificate.toString('pem'), key }
}

const validity = () => ({
  notBefore: new Date(Date.now() - 60_000),
  notAfter: new Date(Date.now() + 86_400_000),
})

async function issue(
  ca: Authority,
  subject: string,
  usage: string,
  san: x509.JsonGeneralNames,
): Promise<Issued> {
  const keys = await newKeys()
  const certificate = await x509.X509CertificateGenerator.create({
    subject,
    issuer: ca.certificate.subject,
    ...validity(),
    signingAlgorithm: ES256,
    publicKey: keys.publicKey,
    signingKey: ca.keys.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([usage]),
      new x509.SubjectAlternativeNameExtension(san),
    ],
  })
  return pem(certificate, keys)
}

/** A CA, a server certificate for 127.0.0.1, and a client certificate with a SPIFFE-style URI SAN. */
export async function throwawayPki(
  clientUri: string,
): Promise<{ ca: string; server: Issued; client: Issued }> {
  const caKeys = await newKeys()
  const caCertificate = await x509.X509CertificateGenerator.createSelfSigned({
    name: 'CN=example internal CA',
    ...validity(),
    signingAlgorithm: ES256,
    keys: caKeys,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true),
    ],
  })
  const ca = { certificate: caCertificate, keys: caKeys }
  return {
    ca: caCertificate.toString('pem'),
    server: await issue(ca, 'CN=localhost', x509.ExtendedKeyUsage.serverAuth, [
      { type: 'ip', value: '127.0.0.1' },
    ]),
    client: await issue(ca, 'CN=orders-service', x509.ExtendedKeyUsage.clientAuth, [
      { type: 'url', value: clientUri },
    ]),
  }
}
