import { type ClientAuthContext, ConfigurationError, privateKeyJwt } from '@oauth-m2m/core'
import { decodeProtectedHeader, exportJWK, importX509, jwtVerify } from 'jose'
import { beforeAll, describe, expect, it } from 'vitest'
import { selfSignedCertificate, type TestCertificate } from './support/certificates.js'

// As the README's Entra ID client is configured: a token endpoint and no issuer, so `aud` is the
// token endpoint, which is what Entra ID documents.
const context: ClientAuthContext = {
  clientId: 'entra-app',
  endpoint: 'https://login.example/tenant/oauth2/v2.0/token',
  tokenEndpoint: 'https://login.example/tenant/oauth2/v2.0/token',
}

async function assertionOf(strategy: ReturnType<typeof privateKeyJwt>): Promise<string> {
  const request = { headers: {}, body: new URLSearchParams({ grant_type: 'client_credentials' }) }
  await strategy.apply(request, context)
  return request.body.get('client_assertion') ?? ''
}

function thumbprint(certificate: TestCertificate, hash: 'SHA-256' | 'SHA-1'): Promise<string> {
  return certificate.certificate.getThumbprint(hash).then((bytes) => Buffer.from(bytes).toString('base64url'))
}

let rsa: TestCertificate
let ec: TestCertificate
let other: TestCertificate

beforeAll(async () => {
  ;[rsa, ec, other] = await Promise.all([
    selfSignedCertificate('PS256', 'CN=entra-app'),
    selfSignedCertificate('ES256', 'CN=ec-app'),
    selfSignedCertificate('ES256', 'CN=someone else'),
  ])
})

describe('privateKeyJwt with a certificate', () => {
  it("names the certificate by its SHA-256 thumbprint (x5t#S256), as Entra ID's PS256 credentials want", async () => {
    const assertion = await assertionOf(privateKeyJwt(rsa.privateKey, { alg: 'PS256', certificate: rsa.pem }))
    const header = decodeProtectedHeader(assertion)
    expect(header).toEqual({
      alg: 'PS256',
      typ: 'client-authentication+jwt',
      'x5t#S256': await thumbprint(rsa, 'SHA-256'),
    })
    // Verifiable with nothing but the certificate, as the server does.
    const { payload } = await jwtVerify(assertion, await importX509(rsa.pem, 'PS256'), {
      audience: context.tokenEndpoint,
      issuer: 'entra-app',
      subject: 'entra-app',
    })
    expect(payload.jti).toEqual(expect.any(String))
  })

  it('adds the SHA-1 thumbprint (x5t) and the chain (x5c, standard base64 DER) only when asked', async () => {
    const assertion = await assertionOf(
      privateKeyJwt(ec.privateKey, { certificate: ec.pem, x5t: true, x5c: true, kid: 'k1' }),
    )
    const header = decodeProtectedHeader(assertion)
    expect(header).toEqual({
      alg: 'ES256',
      kid: 'k1',
      typ: 'client-authentication+jwt',
      'x5t#S256': await thumbprint(ec, 'SHA-256'),
      x5t: await thumbprint(ec, 'SHA-1'),
      x5c: [Buffer.from(ec.certificate.rawData).toString('base64')],
    })
  })

  it('sends a whole chain, leaf first, when the PEM holds one', async () => {
    const ca = await selfSignedCertificate('ES256', 'CN=test CA')
    const leaf = await selfSignedCertificate('ES256', 'CN=leaf', ca)
    const assertion = await assertionOf(
      privateKeyJwt(leaf.privateKey, { certificate: `${leaf.pem}\n${ca.pem}`, x5c: true }),
    )
    expect(decodeProtectedHeader(assertion).x5c).toEqual([
      Buffer.from(leaf.certificate.rawData).toString('base64'),
      Buffer.from(ca.certificate.rawData).toString('base64'),
    ])
    expect(decodeProtectedHeader(assertion)['x5t#S256']).toBe(await thumbprint(leaf, 'SHA-256'))
  })

  it('takes the key as a private JWK or a WebCrypto CryptoKey too', async () => {
    const jwk = await exportJWK(ec.privateKey)
    const fromJwk = await assertionOf(privateKeyJwt({ ...jwk, alg: 'ES256' }, { certificate: ec.pem }))
    expect(decodeProtectedHeader(fromJwk)['x5t#S256']).toBe(await thumbprint(ec, 'SHA-256'))
    const fromCryptoKey = await assertionOf(privateKeyJwt(rsa.keys.privateKey, { certificate: rsa.pem }))
    expect(decodeProtectedHeader(fromCryptoKey)).toMatchObject({
      alg: 'PS256',
      'x5t#S256': await thumbprint(rsa, 'SHA-256'),
    })
    expect(() => privateKeyJwt(other.keys.privateKey, { certificate: rsa.pem })).toThrow(ConfigurationError)
  })

  it('refuses, at creation, a certificate of another key', () => {
    expect(() => privateKeyJwt(ec.privateKey, { certificate: other.pem })).toThrow(
      /certificate's public key does not belong to the private key/,
    )
  })

  it('refuses, at creation, what is not a PEM certificate, and x5t/x5c without one', () => {
    for (const certificate of [
      '',
      'not a certificate',
      '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----',
    ]) {
      expect(() => privateKeyJwt(ec.privateKey, { certificate }), certificate).toThrow(ConfigurationError)
    }
    expect(() => privateKeyJwt(ec.privateKey, { x5c: true })).toThrow(/x5t and x5c need a certificate/)
    expect(() => privateKeyJwt(ec.privateKey, { x5t: true })).toThrow(ConfigurationError)
  })
})
