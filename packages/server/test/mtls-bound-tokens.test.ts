/**
 * Certificate-bound access tokens (RFC 8705 §3): `cnf["x5t#S256"]` (the SHA-256 of the DER of the
 * certificate the token request came with, computed here independently) in JWTs, in opaque
 * tokens' introspection answers, for clients registered with
 * `tls_client_certificate_bound_access_tokens` whatever their authentication method, or for all
 * under `mtls.certificateBoundAccessTokens`; the metadata that says so, and the endpoint aliases.
 */
import { decodeJwt } from 'jose'
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
import { basic, expectOAuthError, send, startServer } from './test-server.js'

const GRANT = { grant_type: 'client_credentials' }
const SECRET = 'svc-secret'

let pki: TestPki
let orders: TestCertificate
let billing: TestCertificate

beforeAll(async () => {
  pki = await testPki()
  orders = await pki.client('C=DE, O=Example, CN=orders')
  billing = await pki.client('C=DE, O=Example, CN=billing')
})

const boundSecretClient = {
  client_id: 'svc',
  client_secret: SECRET,
  scope: 'read',
  tls_client_certificate_bound_access_tokens: true,
}

function secretToken(url: string, cert: TestCertificate | undefined) {
  return tlsPost(`${url}/token`, GRANT, { ca: pki.ca.pem, cert, headers: basic('svc', SECRET) })
}

function introspect(url: string, token: string) {
  return tlsPost(`${url}/introspect`, { token }, { ca: pki.ca.pem, headers: basic('svc', SECRET) })
}

describe('certificate-bound access tokens', () => {
  it('binds a client_secret_basic client registered so to the certificate it presented (JWT and introspection)', async () => {
    const { url } = await startTlsServer({ clients: [boundSecretClient], mtls: {} }, pki.server)
    const answer = await secretToken(url, orders)
    expect(answer.status, answer.text).toBe(200)
    expect(answer.json.token_type).toBe('Bearer')
    expect(decodeJwt(answer.json.access_token).cnf).toEqual({ 'x5t#S256': x5tS256(orders) })
    const introspection = await introspect(url, answer.json.access_token)
    expect(introspection.json).toMatchObject({
      active: true,
      token_type: 'Bearer',
      cnf: { 'x5t#S256': x5tS256(orders) },
    })
    // Another certificate, another binding.
    expect(decodeJwt((await secretToken(url, billing)).json.access_token).cnf).toEqual({
      'x5t#S256': x5tS256(billing),
    })
  })

  it('keeps the binding of an opaque token for introspection', async () => {
    const { url } = await startTlsServer(
      { clients: [boundSecretClient], mtls: {}, tokenFormat: 'opaque' },
      pki.server,
    )
    const answer = await secretToken(url, orders)
    expect(answer.status, answer.text).toBe(200)
    const introspection = await introspect(url, answer.json.access_token)
    expect(introspection.json).toMatchObject({ active: true, cnf: { 'x5t#S256': x5tS256(orders) } })
  })

  it('refuses a token request of a bound client that presents no certificate: 400 invalid_request', async () => {
    const { url } = await startTlsServer({ clients: [boundSecretClient], mtls: {} }, pki.server)
    const answer = expectOAuthError(await secretToken(url, undefined), 400, 'invalid_request')
    expect(answer.json.error_description).toContain('bound to its TLS client certificate')
  })

  it('binds tls_client_auth tokens of a client registered so', async () => {
    const { url } = await startTlsServer(
      {
        clients: [
          {
            client_id: 'orders',
            token_endpoint_auth_method: 'tls_client_auth',
            tls_client_auth_subject_dn: 'CN=orders,O=Example,C=DE',
            tls_client_certificate_bound_access_tokens: true,
          },
        ],
        mtls: { ca: pki.ca.pem },
      },
      pki.server,
    )
    const answer = await tlsPost(
      `${url}/token`,
      { ...GRANT, client_id: 'orders' },
      { ca: pki.ca.pem, cert: orders },
    )
    expect(decodeJwt(answer.json.access_token).cnf).toEqual({ 'x5t#S256': x5tS256(orders) })
  })

  it('binds every token under mtls.certificateBoundAccessTokens, and refuses requests without a certificate', async () => {
    const { url } = await startTlsServer(
      {
        clients: [{ client_id: 'svc', client_secret: SECRET }],
        mtls: { certificateBoundAccessTokens: true },
      },
      pki.server,
    )
    expect(decodeJwt((await secretToken(url, orders)).json.access_token).cnf).toEqual({
      'x5t#S256': x5tS256(orders),
    })
    expectOAuthError(await secretToken(url, undefined), 400, 'invalid_request')
  })

  it('does not bind tokens of other clients by default', async () => {
    const { url } = await startTlsServer(
      { clients: [{ ...boundSecretClient, tls_client_certificate_bound_access_tokens: false }], mtls: {} },
      pki.server,
    )
    expect(decodeJwt((await secretToken(url, orders)).json.access_token).cnf).toBeUndefined()
  })

  it('binds a DPoP request of a bound client to both the key (jkt) and the certificate', async () => {
    const { url } = await startTlsServer({ clients: [boundSecretClient], mtls: {} }, pki.server)
    const key = await proofKey()
    const answer = await tlsPost(`${url}/token`, GRANT, {
      ca: pki.ca.pem,
      cert: orders,
      headers: { ...basic('svc', SECRET), dpop: await proof(key, { htu: `${url}/token` }) },
    })
    expect(answer.status, answer.text).toBe(200)
    expect(answer.json.token_type).toBe('DPoP')
    expect(decodeJwt(answer.json.access_token).cnf).toEqual({ jkt: key.jkt, 'x5t#S256': x5tS256(orders) })
  })

  it('refuses a beforeSign hook that changes cnf["x5t#S256"]', async () => {
    const errors: unknown[] = []
    const { url } = await startTlsServer(
      {
        clients: [boundSecretClient],
        mtls: {},
        beforeSign: () => ({ cnf: { 'x5t#S256': 'another' } }),
        onInternalError: (error) => errors.push(error),
      },
      pki.server,
    )
    expect((await secretToken(url, orders)).status).toBe(500)
    expect(String(errors[0])).toContain('cnf.x5t#S256 of a certificate-bound token')
  })
})

describe('metadata', () => {
  it('advertises the mutual-TLS methods and bound tokens only when mtls is configured; tls_client_auth only with a CA', async () => {
    const plain = await startServer({ clients: [] })
    const without = (await send(`${plain.url}/.well-known/oauth-authorization-server`)).json
    expect(without.token_endpoint_auth_methods_supported).toContain('client_secret_basic')
    expect(without.token_endpoint_auth_methods_supported).not.toContain('self_signed_tls_client_auth')
    expect(without.token_endpoint_auth_methods_supported).not.toContain('tls_client_auth')
    expect(without.tls_client_certificate_bound_access_tokens).toBeUndefined()
    const noCa = (await startServer({ clients: [], mtls: {} })).server.metadata
    expect(noCa.token_endpoint_auth_methods_supported).toContain('self_signed_tls_client_auth')
    expect(noCa.token_endpoint_auth_methods_supported).not.toContain('tls_client_auth')
    expect(noCa.tls_client_certificate_bound_access_tokens).toBe(true)
    expect(noCa.mtls_endpoint_aliases).toBeUndefined()
  })

  it('names tls_client_auth, self_signed_tls_client_auth, tls_client_certificate_bound_access_tokens and the aliases', async () => {
    const { server } = await startTlsServer(
      {
        clients: [],
        mtls: {
          ca: pki.ca.pem,
          endpointAliases: {
            token: 'https://mtls.example.com/token',
            introspection: 'https://mtls.example.com/mtls/introspect',
          },
        },
      },
      pki.server,
    )
    const metadata = server.metadata
    for (const list of [
      metadata.token_endpoint_auth_methods_supported,
      metadata.introspection_endpoint_auth_methods_supported,
      metadata.revocation_endpoint_auth_methods_supported,
    ]) {
      expect(list).toEqual(
        expect.arrayContaining(['tls_client_auth', 'self_signed_tls_client_auth', 'client_secret_basic']),
      )
    }
    expect(metadata.tls_client_certificate_bound_access_tokens).toBe(true)
    expect(metadata.mtls_endpoint_aliases).toEqual({
      token_endpoint: 'https://mtls.example.com/token',
      introspection_endpoint: 'https://mtls.example.com/mtls/introspect',
    })
  })

  it('routes an alias with a path of its own to its endpoint', async () => {
    const { url } = await startTlsServer(
      {
        clients: [{ client_id: 'svc', client_secret: SECRET }],
        mtls: { endpointAliases: { token: 'https://mtls.example.com/mtls/token' } },
      },
      pki.server,
    )
    const answer = await tlsPost(`${url}/mtls/token`, GRANT, {
      ca: pki.ca.pem,
      cert: orders,
      headers: basic('svc', SECRET),
    })
    expect(answer.status, answer.text).toBe(200)
  })
})
