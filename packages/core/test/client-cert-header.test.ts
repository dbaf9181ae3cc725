import { X509Certificate } from 'node:crypto'
import { certificateThumbprint, parseClientCertHeader } from '@oauth-m2m/core/internal'
import { beforeAll, describe, expect, it } from 'vitest'
import { selfSignedCertificate, type TestCertificate } from './support/certificates.js'

let cert: TestCertificate
let der: Buffer
let base64: string

beforeAll(async () => {
  cert = await selfSignedCertificate('ES256', 'CN=client-cert header')
  der = Buffer.from(cert.certificate.rawData)
  base64 = der.toString('base64')
})

/** The thumbprint @peculiar/x509 computes, independently of node:crypto. */
async function independentThumbprint(certificate: TestCertificate): Promise<string> {
  return Buffer.from(await certificate.certificate.getThumbprint('SHA-256')).toString('base64url')
}

describe('parseClientCertHeader (RFC 9440 §2.2)', () => {
  it('reads the DER certificate of an RFC 8941 byte sequence', () => {
    const parsed = parseClientCertHeader(`:${base64}:`)
    expect(parsed).toBeInstanceOf(X509Certificate)
    expect(parsed!.raw.equals(der)).toBe(true)
  })

  it('accepts surrounding spaces and parameters after the item (RFC 8941 §3.1.2, §4.2)', () => {
    expect(parseClientCertHeader(`  :${base64}:;a=1;b="x";c  `)?.raw.equals(der)).toBe(true)
  })

  it.each([
    ['no value', undefined],
    ['an empty value', ''],
    ['a token, not a byte sequence', 'MIIB'],
    ['a string item', `"${base64}"`],
    ['a PEM certificate', () => cert.pem],
    ['an unterminated byte sequence', `:${'A'.repeat(8)}`],
    ['an empty byte sequence', '::'],
    ['base64url, not base64', () => `:${der.toString('base64url')}:`],
    ['padding in the middle', () => `:${base64.slice(0, 8)}=${base64.slice(8)}:`],
    ['two headers joined', () => `:${base64}:, :${base64}:`],
    ['a malformed parameter', () => `:${base64}:;A=1`],
    ['bytes that are no certificate', `:${Buffer.from('not a certificate').toString('base64')}:`],
    [
      'a certificate followed by more bytes',
      () => `:${Buffer.concat([der, Buffer.from([0])]).toString('base64')}:`,
    ],
    ['a truncated certificate', () => `:${der.subarray(0, der.length - 4).toString('base64')}:`],
  ])('holds no certificate for %s', (_name, value) => {
    const text = typeof value === 'function' ? value() : value
    expect(parseClientCertHeader(text)).toBeUndefined()
    // Answered the same way from the cache.
    expect(parseClientCertHeader(text)).toBeUndefined()
  })
})

describe('certificateThumbprint (RFC 8705 §3.1 x5t#S256)', () => {
  it('is the base64url SHA-256 of the DER encoding, from the certificate or its bytes', async () => {
    const expected = await independentThumbprint(cert)
    expect(certificateThumbprint(new X509Certificate(cert.pem))).toBe(expected)
    expect(certificateThumbprint(der)).toBe(expected)
    expect(expected).toMatch(/^[A-Za-z0-9_-]{43}$/)
  })

  it('differs between certificates', async () => {
    const other = await selfSignedCertificate('ES256', 'CN=client-cert header')
    expect(certificateThumbprint(new X509Certificate(other.pem))).not.toBe(
      certificateThumbprint(new X509Certificate(cert.pem)),
    )
  })
})
