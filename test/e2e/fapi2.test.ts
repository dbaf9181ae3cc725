/**
 * `profile: 'fapi2'` end to end over loopback HTTP, every part real: our client authenticates with
 * `privateKeyJwt` (aud = the issuer as one string, typ client-authentication+jwt, as
 * draft-ietf-oauth-rfc7523bis-11 says) and binds its token with DPoP; our server under the FAPI 2.0
 * profile issues it; our verifier (node:http middleware) accepts it at an API. The same client
 * without DPoP gets no token at all, and an RS256 assertion key is refused.
 */
import { generateKeyPairSync } from 'node:crypto'
import { createTokenClient, type TokenClient } from '@oauth-m2m/client'
import { OAuthResponseError, privateKeyJwt } from '@oauth-m2m/core'
import { type AuthorizationServer, createAuthorizationServer } from '@oauth-m2m/server'
import { createVerifier } from '@oauth-m2m/verifier'
import { type CryptoKey, decodeJwt, exportJWK, generateKeyPair, type JWK } from 'jose'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type AppUnderTest, MIDDLEWARE_APPS } from './support/protected-apps.js'

const CLIENT_ID = 'fapi-payments'
const RESOURCE = 'https://payments.example.test/'

let as: AuthorizationServer
let issuer: string
let clientKey: CryptoKey
const rsaKey = generateKeyPairSync('rsa', { modulusLength: 2048 })

beforeAll(async () => {
  const pair = await generateKeyPair('ES256', { extractable: true })
  clientKey = pair.privateKey
  const rsaJwk = { ...(rsaKey.publicKey.export({ format: 'jwk' }) as JWK), kid: 'rsa' }
  as = await createAuthorizationServer({
    profile: 'fapi2',
    clients: [
      {
        client_id: CLIENT_ID,
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'es' }, rsaJwk] },
        scope: 'pay',
      },
    ],
    resources: [{ resource: RESOURCE }],
  })
  ;({ url: issuer } = await as.listen({ port: 0, host: '127.0.0.1' }))
})
afterAll(() => as.close())

const closing: { close(): Promise<void> | void }[] = []
afterEach(async () => {
  for (const item of closing.splice(0).reverse()) await item.close()
})

function client(options: { dpop: boolean; rs256?: boolean; origins?: string[] }): TokenClient {
  const auth = options.rs256
    ? privateKeyJwt(rsaKey.privateKey, { alg: 'RS256', kid: 'rsa' })
    : privateKeyJwt(clientKey, { kid: 'es' })
  const made = createTokenClient({
    issuer,
    clientId: CLIENT_ID,
    auth,
    scope: 'pay',
    resource: RESOURCE,
    dpop: options.dpop,
    retry: false,
    ...(options.origins ? { origins: options.origins } : {}),
  })
  closing.push(made)
  return made
}

describe('FAPI 2.0 profile end to end', () => {
  it('advertises only private_key_jwt and the profile algorithms', async () => {
    const meta = (await (await fetch(`${issuer}/.well-known/oauth-authorization-server`)).json()) as Record<
      string,
      unknown
    >
    expect(meta.token_endpoint_auth_methods_supported).toEqual(['private_key_jwt'])
    expect(meta.token_endpoint_auth_signing_alg_values_supported).toEqual(['PS256', 'ES256', 'EdDSA'])
  })

  it('privateKeyJwt + DPoP gets a DPoP-bound token, which the verifier accepts at the API', async () => {
    const verifier = createVerifier({ issuer, audience: RESOURCE, dpop: 'required' })
    closing.push(verifier)
    const app: AppUnderTest = await MIDDLEWARE_APPS['node:http']({ verifier })
    closing.push(app)
    const payments = client({ dpop: true, origins: [app.url] })
    const token = await payments.getToken()
    expect(token.tokenType).toBe('DPoP')
    const claims = decodeJwt(token.accessToken)
    expect(claims.cnf).toEqual({ jkt: expect.any(String) })
    expect(claims.client_id).toBe(CLIENT_ID)
    const res = await payments.fetch(`${app.url}/things`)
    // The answer's header and body say why, should it ever fail.
    expect(res.status, `${res.headers.get('www-authenticate')} ${await res.text()}`).toBe(200)
    // The token alone, as Bearer, is refused: it is bound.
    const stolen = await fetch(`${app.url}/things`, {
      headers: { authorization: `Bearer ${token.accessToken}` },
    })
    expect(stolen.status).toBe(401)
  })

  it('the same client without DPoP gets no token (no Bearer token under the profile)', async () => {
    const error = await client({ dpop: false })
      .getToken()
      .then(
        () => undefined,
        (e: unknown) => e,
      )
    expect(error).toBeInstanceOf(OAuthResponseError)
    expect((error as OAuthResponseError).status).toBe(400)
    expect((error as OAuthResponseError).error).toBe('invalid_dpop_proof')
  })

  it('an RS256 client assertion is refused, though the key is registered', async () => {
    const error = await client({ dpop: true, rs256: true })
      .getToken()
      .then(
        () => undefined,
        (e: unknown) => e,
      )
    expect(error).toBeInstanceOf(OAuthResponseError)
    expect((error as OAuthResponseError).status).toBe(401)
    expect((error as OAuthResponseError).error).toBe('invalid_client')
  })
})
