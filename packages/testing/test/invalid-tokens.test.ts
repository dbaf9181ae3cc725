import { createPublicKey } from 'node:crypto'
import { InvalidTokenError } from '@oauth-m2m/core'
import {
  INVALID_TOKEN_KINDS,
  type InvalidTokenKind,
  type StartedAuthorizationServer,
  startAuthorizationServer,
} from '@oauth-m2m/testing'
import { createVerifier, type Verifier } from '@oauth-m2m/verifier'
import {
  createRemoteJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  type JWK,
  errors as joseErrors,
  jwtVerify,
} from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

/** What the real verifier says about each kind: proof that the one flaw is what is refused. */
const EXPECTED: Record<InvalidTokenKind, RegExp> = {
  expired: /has expired/,
  'not-yet-valid': /not valid yet/,
  'wrong-issuer': /unexpected issuer/,
  'wrong-audience': /not meant for this audience/,
  'unknown-kid': /no key of the issuer matches/,
  'signed-by-another-key': /signature is not valid/,
  'alg-none': /algorithm that is not allowed/,
  'hs256-with-public-key': /algorithm that is not allowed/,
  truncated: /signature is not valid/,
  'id-token': /not an access token/,
}

let as: StartedAuthorizationServer
let verifier: Verifier

beforeAll(async () => {
  as = await startAuthorizationServer()
  verifier = createVerifier({ issuer: as.issuer, audience: as.audience })
})
afterAll(async () => {
  await verifier?.close()
  await as?.close()
})

async function refusal(token: string): Promise<InvalidTokenError> {
  const error = await verifier.verify(token).then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(InvalidTokenError)
  return error as InvalidTokenError
}

describe('mintInvalidToken', () => {
  it('lists every kind the issue asks for', () => {
    expect([...INVALID_TOKEN_KINDS].sort()).toEqual(Object.keys(EXPECTED).sort())
  })

  it('a valid token of the same server passes the same verifier (the refusals are the flaws)', async () => {
    const principal = await verifier.verify(await as.mintToken())
    expect(principal.clientId).toBe('test-client')
  })

  it.each(INVALID_TOKEN_KINDS)('%s is refused by createVerifier with ERR_INVALID_TOKEN', async (kind) => {
    const token = await as.mintInvalidToken(kind)
    const error = await refusal(token)
    expect(error.code).toBe('ERR_INVALID_TOKEN')
    expect(error.message).toMatch(EXPECTED[kind])
  })

  it('gives a new token on every call', async () => {
    for (const kind of INVALID_TOKEN_KINDS) {
      expect(await as.mintInvalidToken(kind), kind).not.toBe(await as.mintInvalidToken(kind))
    }
  })

  it('spoils one thing only: the claims of a valid token of that client, with the one change', async () => {
    const client = as.createClient('reader', { scope: 'read' })
    const expired = decodeJwt(await as.mintInvalidToken('expired', { clientId: client.clientId }))
    expect(expired).toMatchObject({
      iss: as.issuer,
      sub: 'reader',
      client_id: 'reader',
      aud: as.audience,
      scope: 'read',
    })
    expect(expired.exp! - expired.iat!).toBe(3600)
    const wrongAudience = decodeJwt(await as.mintInvalidToken('wrong-audience'))
    expect(wrongAudience).toMatchObject({
      iss: as.issuer,
      aud: 'https://wrong-audience.invalid',
      client_id: 'test-client',
    })
  })

  it('builds the signature attacks on the real current key', async () => {
    const valid = decodeProtectedHeader(await as.mintToken())
    const another = decodeProtectedHeader(await as.mintInvalidToken('signed-by-another-key'))
    expect(another).toEqual(valid)
    const unknown = decodeProtectedHeader(await as.mintInvalidToken('unknown-kid'))
    expect(unknown.kid).not.toBe(valid.kid)
    const published = (await (await fetch(as.server.metadata.jwks_uri)).json()) as { keys: { kid: string }[] }
    expect(published.keys.map((k) => k.kid)).not.toContain(unknown.kid)
    expect(decodeProtectedHeader(await as.mintInvalidToken('alg-none'))).toEqual({ ...valid, alg: 'none' })
    expect((await as.mintInvalidToken('alg-none')).endsWith('.')).toBe(true)
  })

  it('hs256-with-public-key is an HMAC keyed with the SPKI PEM of the current public key', async () => {
    const token = await as.mintInvalidToken('hs256-with-public-key')
    const jwks = (await (await fetch(as.server.metadata.jwks_uri)).json()) as { keys: JWK[] }
    const kid = decodeProtectedHeader(token).kid
    const jwk = jwks.keys.find((k) => k.kid === kid)!
    const pem = createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' }) as string
    const { payload, protectedHeader } = await jwtVerify(token, new TextEncoder().encode(pem))
    expect(protectedHeader.alg).toBe('HS256')
    expect(payload.client_id).toBe('test-client')
    // Keyed with any other form of the key, the MAC does not match.
    await expect(jwtVerify(token, new TextEncoder().encode(pem.trimEnd()))).rejects.toBeInstanceOf(
      joseErrors.JWSSignatureVerificationFailed,
    )
  })

  it('id-token carries OIDC ID-token claims, typ JWT, aud the client id, signed by the real key', async () => {
    const token = await as.mintInvalidToken('id-token')
    expect(decodeProtectedHeader(token).typ).toBe('JWT')
    const claims = decodeJwt(token)
    expect(claims).toMatchObject({ iss: as.issuer, aud: 'test-client', azp: 'test-client' })
    for (const name of ['sub', 'iat', 'exp', 'auth_time', 'nonce']) expect(claims).toHaveProperty(name)
    expect(claims).not.toHaveProperty('scope')
    const jwksUrl = new URL(as.server.metadata.jwks_uri)
    await expect(jwtVerify(token, createRemoteJWKSet(jwksUrl), { typ: 'JWT' })).resolves.toBeDefined()
  })

  it("counts from the server's clock when the issued token has no iat", async () => {
    const at = Date.UTC(2040, 0, 1)
    const clocked = await startAuthorizationServer({ now: () => at, beforeSign: () => ({ iat: undefined }) })
    try {
      const nowSec = Math.floor(at / 1000)
      expect(decodeJwt(await clocked.mintInvalidToken('expired'))).toMatchObject({
        iat: nowSec - 7200,
        exp: nowSec - 3600,
      })
      expect(decodeJwt(await clocked.mintInvalidToken('id-token'))).toMatchObject({
        iat: nowSec,
        exp: nowSec + 3600,
      })
    } finally {
      await clocked.close()
    }
  })

  it('refuses an unknown kind with a ConfigurationError', async () => {
    await expect(as.mintInvalidToken('forged' as InvalidTokenKind)).rejects.toMatchObject({
      code: 'ERR_CONFIGURATION',
    })
  })
})
