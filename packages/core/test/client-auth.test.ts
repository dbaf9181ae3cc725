import { generateKeyPairSync } from 'node:crypto'
import {
  type ClientAuthContext,
  type ClientAuthRequest,
  ConfigurationError,
  clientSecretBasic,
  clientSecretJwt,
  clientSecretPost,
  JWT_BEARER_ASSERTION_TYPE,
  privateKeyJwt,
} from '@oauth-m2m/core'
import { decodeBasicCredentials } from '@oauth-m2m/core/internal'
import { decodeProtectedHeader, exportJWK, exportPKCS8, generateKeyPair, jwtVerify } from 'jose'
import { describe, expect, it } from 'vitest'

const context: ClientAuthContext = {
  clientId: 'svc a',
  endpoint: 'https://as.example/token',
  tokenEndpoint: 'https://as.example/token',
  issuer: 'https://as.example',
}

function newRequest(): ClientAuthRequest {
  return { headers: {}, body: new URLSearchParams({ grant_type: 'client_credentials' }) }
}

describe('clientSecretBasic', () => {
  it('sends form-urlencoded id and secret in the Authorization header only', async () => {
    const req = newRequest()
    await clientSecretBasic('p@ss word:+%').apply(req, context)
    expect(decodeBasicCredentials(req.headers.authorization!)).toEqual({
      ok: true,
      clientId: 'svc a',
      clientSecret: 'p@ss word:+%',
    })
    expect([...req.body.keys()]).toEqual(['grant_type'])
  })

  it('asks a secret function for the current secret on every request (rotation)', async () => {
    let secret = 'old'
    const strategy = clientSecretBasic(() => secret)
    const first = newRequest()
    await strategy.apply(first, context)
    secret = 'new'
    const second = newRequest()
    await strategy.apply(second, context)
    expect(decodeBasicCredentials(first.headers.authorization!)).toMatchObject({ clientSecret: 'old' })
    expect(decodeBasicCredentials(second.headers.authorization!)).toMatchObject({ clientSecret: 'new' })
  })

  it('refuses an empty secret at construction and an empty rotated secret at use', async () => {
    expect(() => clientSecretBasic('')).toThrow(ConfigurationError)
    await expect(clientSecretBasic(async () => '').apply(newRequest(), context)).rejects.toThrow(
      ConfigurationError,
    )
  })
})

describe('clientSecretPost', () => {
  it('puts client_id and client_secret in the body and no header', async () => {
    const req = newRequest()
    await clientSecretPost('s3cr&t').apply(req, context)
    expect(req.body.get('client_id')).toBe('svc a')
    expect(req.body.get('client_secret')).toBe('s3cr&t')
    expect(req.headers.authorization).toBeUndefined()
  })
})

describe('clientSecretJwt (RFC 7523, draft-ietf-oauth-rfc7523bis)', () => {
  it('signs a fresh HS256 assertion per request with iss = sub = client_id and aud = the issuer', async () => {
    const strategy = clientSecretJwt('a-long-enough-shared-secret-for-hs256')
    const key = new TextEncoder().encode('a-long-enough-shared-secret-for-hs256')
    const jtis = new Set<string>()
    for (let i = 0; i < 3; i++) {
      const req = newRequest()
      await strategy.apply(req, context)
      expect(req.body.get('client_assertion_type')).toBe(JWT_BEARER_ASSERTION_TYPE)
      expect(req.body.get('client_id')).toBe('svc a')
      const { payload, protectedHeader } = await jwtVerify(req.body.get('client_assertion')!, key, {
        issuer: 'svc a',
        subject: 'svc a',
        audience: 'https://as.example',
      })
      expect(protectedHeader).toEqual({ alg: 'HS256', typ: 'client-authentication+jwt' })
      expect(payload.aud).toBe('https://as.example')
      expect(payload.exp! - payload.iat!).toBe(60)
      jtis.add(payload.jti!)
    }
    expect(jtis.size).toBe(3)
  })

  it('names the token endpoint when no issuer is known, or an explicit audience and typ', async () => {
    const secret = new TextEncoder().encode('x'.repeat(32))
    const req = newRequest()
    await clientSecretJwt('x'.repeat(32)).apply(req, { ...context, issuer: undefined })
    expect((await jwtVerify(req.body.get('client_assertion')!, secret)).payload.aud).toBe(
      'https://as.example/token',
    )
    const explicit = newRequest()
    await clientSecretJwt('x'.repeat(32), { audience: 'urn:as', lifetimeSec: 30, typ: 'JWT' }).apply(
      explicit,
      context,
    )
    const got = await jwtVerify(explicit.body.get('client_assertion')!, secret)
    expect(got.payload.aud).toBe('urn:as')
    expect(got.protectedHeader.typ).toBe('JWT')
    expect(got.payload.exp! - got.payload.iat!).toBe(30)
  })

  it('refuses an empty audience and a typ that is not a header value', () => {
    expect(() => clientSecretJwt('x'.repeat(32), { audience: '' })).toThrow(ConfigurationError)
    expect(() => clientSecretJwt('x'.repeat(32), { typ: 'a b' })).toThrow(ConfigurationError)
    expect(() => privateKeyJwt(generateKeyPairSync('ed25519').privateKey, { typ: '' })).toThrow(
      ConfigurationError,
    )
  })
})

describe('privateKeyJwt (RFC 7523)', () => {
  it.each(['ES256', 'RS256', 'PS256', 'EdDSA'] as const)(
    'signs with a %s private JWK, taking kid and alg from it',
    async (alg) => {
      const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true })
      const jwk = { ...(await exportJWK(privateKey)), kid: 'k1', alg }
      const req = newRequest()
      await privateKeyJwt(jwk).apply(req, context)
      const assertion = req.body.get('client_assertion')!
      expect(decodeProtectedHeader(assertion)).toEqual({ alg, kid: 'k1', typ: 'client-authentication+jwt' })
      const { payload } = await jwtVerify(assertion, publicKey, {
        audience: context.issuer,
        issuer: 'svc a',
      })
      expect(payload.sub).toBe('svc a')
      // One string (draft-ietf-oauth-rfc7523bis §4), not the token endpoint and not an array.
      expect(payload.aud).toBe('https://as.example')
    },
  )

  it('derives the alg from a KeyObject, a CryptoKey and a PEM string', async () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const rsa = await generateKeyPair('RS256', { extractable: true })
    const ed = generateKeyPairSync('ed25519')
    const cases = [
      [ec.privateKey, ec.publicKey, 'ES256'],
      [rsa.privateKey, rsa.publicKey, 'RS256'],
      [await exportPKCS8(rsa.privateKey), rsa.publicKey, 'RS256'],
      [ed.privateKey, ed.publicKey, 'EdDSA'],
    ] as const
    for (const [priv, pub, alg] of cases) {
      const req = newRequest()
      await privateKeyJwt(priv, { kid: 'x' }).apply(req, context)
      const { protectedHeader } = await jwtVerify(req.body.get('client_assertion')!, pub)
      expect(protectedHeader.alg).toBe(alg)
    }
  })

  it('refuses public keys, symmetric JWKs and PEM strings that are not private keys', async () => {
    const { publicKey } = await generateKeyPair('ES256', { extractable: true })
    expect(() => privateKeyJwt(publicKey)).toThrow(ConfigurationError)
    expect(() => privateKeyJwt(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey)).toThrow(
      ConfigurationError,
    )
    expect(() => privateKeyJwt({ kty: 'oct', k: 'AAAA' })).toThrow(ConfigurationError)
    const publicJwk = await exportJWK(publicKey)
    expect(() => privateKeyJwt(publicJwk)).toThrow(ConfigurationError)
    expect(() => privateKeyJwt('-----BEGIN NOTHING-----')).toThrow(ConfigurationError)
  })
})
