/**
 * Certificate-bound tokens in `verify()` (RFC 8705 §3): the binding (`cnf["x5t#S256"]`) in JWTs
 * and introspection answers, checked against `options.clientCertificate`; tokens without it
 * unaffected; a token bound both ways needs both.
 */
import { X509Certificate } from 'node:crypto'
import { ConfigurationError, clientSecretBasic } from '@oauth-m2m/core'
import { createVerifier, InvalidTokenError, type Verifier, type VerifierOptions } from '@oauth-m2m/verifier'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { selfSignedCertificate } from '../../core/test/support/certificates.js'
import { type DpopKey, dpopKey, dpopProof } from './support/dpop.js'
import { AUDIENCE, accessTokenClaims, ISSUER, makeKey, mintToken, type TestKey } from './support/keys.js'
import { startTestIssuer, type TestIssuer } from './support/test-issuer.js'

const URL_ = 'https://api.test.example/things'
let signer: TestKey
let mine: X509Certificate
let other: X509Certificate
/** `x5t#S256` of `mine`, computed by @peculiar/x509 rather than by the code under test. */
let x5t: string
let dpop: DpopKey

beforeAll(async () => {
  signer = await makeKey('ES256', 'as-key')
  const [a, b] = await Promise.all([
    selfSignedCertificate('ES256', 'CN=service-a'),
    selfSignedCertificate('ES256', 'CN=service-a'),
  ])
  mine = new X509Certificate(a.pem)
  other = new X509Certificate(b.pem)
  x5t = Buffer.from(await a.certificate.getThumbprint('SHA-256')).toString('base64url')
  dpop = await dpopKey('ES256')
})

function verifierWith(options: Partial<VerifierOptions> = {}): Verifier {
  return createVerifier({
    issuer: ISSUER,
    audience: AUDIENCE,
    jwks: { keys: [signer.publicJwk] },
    ...options,
  })
}

function boundToken(cnf: Record<string, string> = { 'x5t#S256': x5t }): Promise<string> {
  return mintToken(signer, accessTokenClaims({ cnf }))
}

describe('certificate-bound JWTs', () => {
  it('accepts the token with its certificate; the principal names the binding', async () => {
    const principal = await verifierWith().verify(await boundToken(), { clientCertificate: mine })
    expect(principal.confirmation).toEqual({ 'x5t#S256': x5t })
  })

  it('refuses it with another certificate or none, as invalid_token', async () => {
    const verifier = verifierWith()
    const token = await boundToken()
    const another = verifier.verify(token, { clientCertificate: other })
    await expect(another).rejects.toThrow(InvalidTokenError)
    await expect(another).rejects.toThrow(/another client certificate/)
    await expect(verifier.verify(token)).rejects.toMatchObject({
      error: 'invalid_token',
      message: expect.stringMatching(/bound to a client certificate/),
    })
  })

  it('checks the binding on every call, also when the principal comes from the verified-token cache', async () => {
    const verifier = verifierWith()
    const token = await boundToken()
    await verifier.verify(token, { clientCertificate: mine })
    await expect(verifier.verify(token, { clientCertificate: other })).rejects.toThrow(/another client/)
    await expect(verifier.verify(token)).rejects.toThrow(/bound to a client certificate/)
    await expect(verifier.verify(token, { clientCertificate: mine })).resolves.toBeDefined()
  })

  it('leaves tokens without cnf["x5t#S256"] unaffected, with or without a certificate', async () => {
    const verifier = verifierWith()
    const bearer = await mintToken(signer)
    await expect(verifier.verify(bearer)).resolves.not.toHaveProperty('confirmation')
    await expect(verifier.verify(bearer, { clientCertificate: other })).resolves.not.toHaveProperty(
      'confirmation',
    )
  })

  it('refuses a malformed cnf["x5t#S256"] rather than treating the token as unbound', async () => {
    const verifier = verifierWith()
    for (const value of [7, '', null, [x5t], { x5t }]) {
      const token = await mintToken(signer, accessTokenClaims({ cnf: { 'x5t#S256': value } }))
      await expect(
        verifier.verify(token, { clientCertificate: mine }),
        JSON.stringify(value),
      ).rejects.toThrow(/"cnf.x5t#S256"/)
    }
  })

  it('needs both the proof and the certificate for a token bound both ways', async () => {
    const verifier = verifierWith()
    const token = await boundToken({ jkt: dpop.jkt, 'x5t#S256': x5t })
    const proof = () => dpopProof(dpop, { url: URL_, accessToken: token })
    const request = async () => ({ proof: await proof(), method: 'GET', url: URL_ })
    await expect(verifier.verify(token, { dpop: await request() })).rejects.toThrow(/client certificate/)
    await expect(verifier.verify(token, { clientCertificate: mine })).rejects.toThrow(/DPoP-bound/)
    await expect(verifier.verify(token, { dpop: await request(), clientCertificate: other })).rejects.toThrow(
      /another client certificate/,
    )
    const principal = await verifier.verify(token, { dpop: await request(), clientCertificate: mine })
    expect(principal.confirmation).toEqual({ jkt: dpop.jkt, 'x5t#S256': x5t })
  })

  it('refuses a clientCertificate that is not an X509Certificate as a ConfigurationError', async () => {
    const verifier = verifierWith()
    const token = await boundToken()
    for (const value of [mine.toString(), mine.raw, {}]) {
      await expect(
        verifier.verify(token, { clientCertificate: value as unknown as X509Certificate }),
      ).rejects.toThrow(ConfigurationError)
    }
  })
})

describe('introspection answers', () => {
  let as: TestIssuer
  beforeAll(async () => {
    as = await startTestIssuer()
  })
  afterAll(() => as.close())

  it('binds an opaque token by the cnf["x5t#S256"] of its introspection answer', async () => {
    as.onIntrospect(() => ({
      body: {
        active: true,
        iss: as.issuer,
        aud: AUDIENCE,
        client_id: 'service-a',
        exp: Math.floor(Date.now() / 1000) + 600,
        cnf: { 'x5t#S256': x5t },
      },
    }))
    const verifier = createVerifier({
      issuer: as.issuer,
      audience: AUDIENCE,
      introspection: {
        clientId: 'api',
        auth: clientSecretBasic('secret'),
        endpoint: as.introspectionEndpoint,
      },
    })
    const opaque = 'b3BhcXVlLWNlcnRpZmljYXRlLWJvdW5k'
    await expect(verifier.verify(opaque)).rejects.toThrow(/bound to a client certificate/)
    await expect(verifier.verify(opaque, { clientCertificate: other })).rejects.toThrow(/another client/)
    expect((await verifier.verify(opaque, { clientCertificate: mine })).confirmation).toEqual({
      'x5t#S256': x5t,
    })
    await verifier.close()
  })

  it('keeps the certificate binding of a JWT checked by introspection too (mode all)', async () => {
    const jwtSigner = await makeKey('ES256', 'introspected')
    let answerCnf: unknown
    as.onIntrospect(() => ({
      body: {
        active: true,
        iss: as.issuer,
        aud: AUDIENCE,
        client_id: 'service-a',
        exp: Math.floor(Date.now() / 1000) + 600,
        ...(answerCnf === undefined ? {} : { cnf: answerCnf }),
      },
    }))
    const verifier = createVerifier({
      issuer: as.issuer,
      audience: AUDIENCE,
      jwks: { keys: [jwtSigner.publicJwk] },
      introspection: {
        clientId: 'api',
        auth: clientSecretBasic('secret'),
        endpoint: as.introspectionEndpoint,
        mode: 'all',
        maxTtlMs: 1,
      },
    })
    const claims = accessTokenClaims({ iss: as.issuer, cnf: { 'x5t#S256': x5t } })
    const token = await mintToken(jwtSigner, claims)
    // The answer leaves cnf out: the JWT's binding still holds.
    await expect(verifier.verify(token)).rejects.toThrow(/bound to a client certificate/)
    await expect(verifier.verify(token, { clientCertificate: mine })).resolves.toBeDefined()
    // The answer names another certificate: refused.
    answerCnf = { 'x5t#S256': 'another-thumbprint' }
    const second = await mintToken(jwtSigner, accessTokenClaims({ iss: as.issuer, cnf: { 'x5t#S256': x5t } }))
    await expect(verifier.verify(second, { clientCertificate: mine })).rejects.toThrow(
      /another key than its introspection answer/,
    )
    await verifier.close()
  })
})
