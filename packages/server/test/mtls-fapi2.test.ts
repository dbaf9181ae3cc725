/**
 * `profile: 'fapi2'` with mutual TLS: every access token is sender-constrained (FAPI 2.0 §5.3.2.1
 * items 4 and 5). A tls_client_auth request without a DPoP proof gets a token bound to its
 * certificate even when the client is not registered as bound; one with a proof gets a DPoP token.
 */
import { randomUUID } from 'node:crypto'
import { JWT_BEARER_ASSERTION_TYPE } from '@oauth-m2m/core'
import { decodeJwt, exportJWK, generateKeyPair, SignJWT } from 'jose'
import { beforeAll, describe, expect, it } from 'vitest'
import { proof, proofKey } from './dpop-proofs.js'
import {
  startTlsServer,
  type TestCertificate,
  type TestPki,
  testPki,
  tlsPost,
  x5tS256,
} from './mtls-support.js'
import { expectOAuthError } from './test-server.js'

let pki: TestPki
let orders: TestCertificate

beforeAll(async () => {
  pki = await testPki()
  orders = await pki.client('C=DE, O=Example, CN=orders')
})

const REQUEST = { grant_type: 'client_credentials', client_id: 'orders' }

function start() {
  return startTlsServer(
    {
      profile: 'fapi2',
      clients: [
        {
          client_id: 'orders',
          token_endpoint_auth_method: 'tls_client_auth',
          tls_client_auth_subject_dn: 'CN=orders,O=Example,C=DE',
        },
      ],
      mtls: { ca: pki.ca.pem },
    },
    pki.server,
  )
}

describe("profile: 'fapi2' with mtls", () => {
  it('binds a token requested without a DPoP proof to the client certificate', async () => {
    const { url } = await start()
    const answer = await tlsPost(`${url}/token`, REQUEST, { ca: pki.ca.pem, cert: orders })
    expect(answer.status, answer.text).toBe(200)
    expect(decodeJwt(answer.json.access_token).cnf).toEqual({ 'x5t#S256': x5tS256(orders) })
  })

  it('issues a DPoP-bound token to a request with a proof', async () => {
    const { url } = await start()
    const key = await proofKey()
    const answer = await tlsPost(`${url}/token`, REQUEST, {
      ca: pki.ca.pem,
      cert: orders,
      headers: { dpop: await proof(key, { htu: `${url}/token` }) },
    })
    expect(answer.status, answer.text).toBe(200)
    expect(answer.json.token_type).toBe('DPoP')
    expect(decodeJwt(answer.json.access_token).cnf).toEqual({ jkt: key.jkt })
  })

  it('refuses a private_key_jwt request with neither a DPoP proof nor a certificate', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256')
    const { url } = await startTlsServer(
      {
        profile: 'fapi2',
        clients: [
          {
            client_id: 'jwt',
            token_endpoint_auth_method: 'private_key_jwt',
            jwks: { keys: [await exportJWK(publicKey)] },
          },
        ],
        mtls: { ca: pki.ca.pem },
      },
      pki.server,
    )
    const assertion = () =>
      new SignJWT({ jti: randomUUID() })
        .setProtectedHeader({ alg: 'ES256' })
        .setIssuer('jwt')
        .setSubject('jwt')
        .setAudience(url)
        .setIssuedAt()
        .setExpirationTime('1m')
        .sign(privateKey)
    const form = async () => ({
      grant_type: 'client_credentials',
      client_assertion_type: JWT_BEARER_ASSERTION_TYPE,
      client_assertion: await assertion(),
    })
    const refused = await tlsPost(`${url}/token`, await form(), { ca: pki.ca.pem })
    expect(expectOAuthError(refused, 400, 'invalid_request').json.error_description).toContain(
      'sender-constrained',
    )
    const bound = await tlsPost(`${url}/token`, await form(), { ca: pki.ca.pem, cert: orders })
    expect(bound.status, bound.text).toBe(200)
    expect(decodeJwt(bound.json.access_token).cnf).toEqual({ 'x5t#S256': x5tS256(orders) })
  })
})
