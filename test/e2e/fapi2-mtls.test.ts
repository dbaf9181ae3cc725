/**
 * `profile: 'fapi2'` with mutual TLS end to end, every part real and every hop over loopback TLS:
 * our client authenticates with `tlsClientAuth` and sends no DPoP proof; our server under the
 * FAPI 2.0 profile binds the token to the client's certificate (FAPI 2.0 §5.3.2.1: every token is
 * sender-constrained, though this client is not registered as bound); our verifier's `node:http`
 * middleware, behind an HTTPS listener that asks for client certificates, accepts it only from a
 * connection that presents that certificate (RFC 8705 §3).
 */
import { createServer as createHttpsServer, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import { createTokenClient, type TokenClient, tlsClientAuth } from '@oauth-m2m/client'
import { type AuthorizationServer, createAuthorizationServer } from '@oauth-m2m/server'
import { createVerifier, type Verifier } from '@oauth-m2m/verifier'
import { type AuthenticatedRequest, bearerAuth } from '@oauth-m2m/verifier/node'
import { decodeJwt } from 'jose'
import { Agent, request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type TestCertificate, type TestPki, testPki } from '../../packages/core/test/support/certificates.js'
import { thumbprintOf } from './support/certificate-thumbprint.js'

const RESOURCE = 'https://orders-api.example.test/'

let pki: TestPki
let orders: TestCertificate
let billing: TestCertificate
let as: AuthorizationServer
let issuer: string
let verifier: Verifier
let jwksDispatcher: Agent
let api: Server
let apiOrigin: string
let tokenClient: TokenClient

beforeAll(async () => {
  pki = await testPki()
  orders = await pki.client('CN=orders', { dns: ['orders.svc.example.test'] })
  billing = await pki.client('CN=billing', { dns: ['billing.svc.example.test'] })

  as = await createAuthorizationServer({
    profile: 'fapi2',
    clients: [
      {
        client_id: 'orders',
        token_endpoint_auth_method: 'tls_client_auth',
        tls_client_auth_san_dns: 'orders.svc.example.test',
        scope: 'orders:read',
      },
    ],
    resources: [{ resource: RESOURCE }],
    mtls: { ca: pki.ca.pem },
  })
  ;({ url: issuer } = await as.listen({ tls: { key: pki.server.keyPem, cert: pki.server.pem } }))

  // The API trusts the test CA for the authorization server's JWKS, as it would its own CA.
  jwksDispatcher = new Agent({ connect: { ca: pki.ca.pem } })
  verifier = createVerifier({ issuer, audience: RESOURCE, dispatcher: jwksDispatcher })
  const auth = bearerAuth({ verifier, requiredScopes: ['orders:read'], realm: 'orders-api' })
  // Certificates are asked for but not required at the TLS layer, so that a request without one
  // reaches the middleware, whose answer is the point.
  api = createHttpsServer(
    {
      key: pki.server.keyPem,
      cert: pki.server.pem,
      ca: pki.ca.pem,
      requestCert: true,
      rejectUnauthorized: false,
    },
    (req, res) =>
      auth(req, res, () => {
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ clientId: (req as AuthenticatedRequest).auth.clientId }))
      }),
  )
  await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve))
  apiOrigin = `https://127.0.0.1:${(api.address() as AddressInfo).port}`

  tokenClient = createTokenClient({
    issuer,
    clientId: 'orders',
    auth: tlsClientAuth({ cert: orders.pem, key: orders.keyPem, ca: pki.ca.pem }),
    scope: 'orders:read',
    resource: RESOURCE,
    origins: [apiOrigin],
    retry: false,
  })
})

afterAll(async () => {
  await tokenClient.close()
  api.closeAllConnections()
  await new Promise<void>((resolve) => api.close(() => resolve()))
  await verifier.close()
  await jwksDispatcher.close()
  await as.close()
})

/** GETs the API with `token` as Bearer over a connection that presents `certificate` (or none). */
async function callApi(token: string, certificate: TestCertificate | undefined) {
  const dispatcher = new Agent({
    connect: {
      ca: pki.ca.pem,
      ...(certificate === undefined ? {} : { cert: certificate.pem, key: certificate.keyPem }),
    },
  })
  try {
    const answer = await request(`${apiOrigin}/orders`, {
      headers: { authorization: `Bearer ${token}` },
      dispatcher,
    })
    return {
      status: answer.statusCode,
      challenge: answer.headers['www-authenticate'],
      body: await answer.body.text(),
    }
  } finally {
    await dispatcher.close()
  }
}

describe('FAPI 2.0 profile with mutual TLS, end to end', () => {
  it('advertises certificate-bound tokens and only the FAPI 2.0 client authentication methods', () => {
    expect(as.metadata.tls_client_certificate_bound_access_tokens).toBe(true)
    expect(as.metadata.token_endpoint_auth_methods_supported).toEqual([
      'private_key_jwt',
      'tls_client_auth',
      'self_signed_tls_client_auth',
    ])
  })

  it('issues a Bearer token bound to the certificate the client presented, without DPoP', async () => {
    const token = await tokenClient.getToken()
    expect(token.tokenType).toBe('Bearer')
    expect(decodeJwt(token.accessToken)).toMatchObject({
      iss: issuer,
      client_id: 'orders',
      aud: RESOURCE,
      scope: 'orders:read',
      cnf: { 'x5t#S256': thumbprintOf(orders.pem) },
    })
  })

  it('client.fetch reaches the API over mutual TLS with that certificate, and the verifier accepts it', async () => {
    const answer = await tokenClient.fetch(`${apiOrigin}/orders`)
    expect(answer.status).toBe(200)
    expect(await answer.json()).toEqual({ clientId: 'orders' })
  })

  it('the API refuses the token from a connection with another certificate: 401 invalid_token', async () => {
    const { accessToken } = await tokenClient.getToken()
    const answer = await callApi(accessToken, billing)
    expect(answer.status).toBe(401)
    expect(answer.challenge).toMatch(/^Bearer realm="orders-api", error="invalid_token"/)
    expect(answer.body).not.toContain(accessToken)
  })

  it('the API refuses the token from a connection without a certificate: 401 invalid_token', async () => {
    const { accessToken } = await tokenClient.getToken()
    const answer = await callApi(accessToken, undefined)
    expect(answer.status).toBe(401)
    expect(answer.challenge).toMatch(/^Bearer realm="orders-api", error="invalid_token"/)
  })

  it('the same token over the certificate it is bound to is accepted, sent by hand', async () => {
    const { accessToken } = await tokenClient.getToken()
    const answer = await callApi(accessToken, orders)
    expect(answer.status, answer.body).toBe(200)
  })
})
