/**
 * The client certificate behind a TLS-terminating proxy (RFC 9440 `Client-Cert`), read only from a
 * peer named in `trustedProxy.addresses` with a `certificateHeader`; never by default, never from
 * anyone else. And the certificate a host hands to `handle()`.
 */
import { X509Certificate } from 'node:crypto'
import { createAuthorizationServer } from '@oauth-m2m/server'
import { decodeJwt } from 'jose'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  clientCertHeader,
  der,
  startTlsServer,
  type TestCertificate,
  type TestPki,
  testPki,
  tlsPost,
  x5tS256,
} from './mtls-support.js'
import { expectOAuthError, FORM, postForm, startServer } from './test-server.js'

let pki: TestPki
let orders: TestCertificate
let billing: TestCertificate

beforeAll(async () => {
  pki = await testPki()
  orders = await pki.client('C=DE, O=Example, CN=orders')
  billing = await pki.client('C=DE, O=Example, CN=billing')
})

const ORDERS = {
  client_id: 'orders',
  token_endpoint_auth_method: 'tls_client_auth',
  tls_client_auth_subject_dn: 'CN=orders,O=Example,C=DE',
  tls_client_certificate_bound_access_tokens: true,
} as const
const REQUEST = { grant_type: 'client_credentials', client_id: 'orders' }

function config(addresses: string[] | undefined, certificateHeader: string | undefined = 'client-cert') {
  return {
    clients: [ORDERS],
    mtls: { ca: pki.ca.pem },
    ...(addresses
      ? { trustedProxy: { addresses, ...(certificateHeader ? { certificateHeader } : {}) } }
      : {}),
  }
}

describe('Client-Cert from a trusted proxy (RFC 9440)', () => {
  it('authenticates with the forwarded certificate and binds the token to it', async () => {
    const { url } = await startServer(config(['127.0.0.1']))
    const answer = await postForm(`${url}/token`, REQUEST, { 'client-cert': clientCertHeader(orders) })
    expect(answer.status, answer.text).toBe(200)
    expect(decodeJwt(answer.json.access_token).cnf).toEqual({ 'x5t#S256': x5tS256(orders) })
  })

  it('accepts RFC 8941 parameters after the byte sequence, missing padding and surrounding spaces', async () => {
    const { url } = await startServer(config(['127.0.0.1']))
    const b64 = der(orders).toString('base64').replace(/=+$/, '')
    const answer = await postForm(`${url}/token`, REQUEST, { 'client-cert': ` :${b64}:;issuer="proxy";n=1 ` })
    expect(answer.status, answer.text).toBe(200)
  })

  it('ignores the header from a peer that is not a trusted proxy', async () => {
    const { url } = await startServer(config(['10.0.0.1']))
    const answer = expectOAuthError(
      await postForm(`${url}/token`, REQUEST, { 'client-cert': clientCertHeader(orders) }),
      401,
      'invalid_client',
    )
    expect(answer.json.error_description).toContain('no client certificate')
  })

  it('never reads it by default: no trustedProxy, or a trusted proxy without certificateHeader', async () => {
    for (const c of [config(undefined), config(['127.0.0.1'], '')]) {
      const { url } = await startServer(c)
      expectOAuthError(
        await postForm(`${url}/token`, REQUEST, { 'client-cert': clientCertHeader(orders) }),
        401,
        'invalid_client',
      )
    }
  })

  it('reads the header name configured, case-insensitively', async () => {
    const { url } = await startServer(config(['127.0.0.0/8'], 'X-SSL-Client-Cert'))
    expect(
      (await postForm(`${url}/token`, REQUEST, { 'x-ssl-client-cert': clientCertHeader(orders) })).status,
    ).toBe(200)
    expectOAuthError(
      await postForm(`${url}/token`, REQUEST, { 'client-cert': clientCertHeader(orders) }),
      401,
      'invalid_client',
    )
  })

  it('treats a malformed value as no certificate (RFC 8941 §4.2)', async () => {
    const { url } = await startServer(config(['127.0.0.1']))
    const b64 = der(orders).toString('base64')
    const pem = orders.pem.replace(/\n/g, ' ')
    const malformed = [
      b64, // not a byte sequence
      `:${b64}`, // unterminated
      `:${b64.replace(/\+/g, '-').replace(/\//g, '_')}x-y:`, // base64url
      `:${b64}:, :${b64}:`, // two headers joined
      `:${Buffer.from('not a certificate').toString('base64')}:`,
      `:${Buffer.concat([der(orders), Buffer.from([0])]).toString('base64')}:`, // trailing byte
      pem,
    ]
    for (const value of malformed) {
      const answer = await postForm(`${url}/token`, REQUEST, { 'client-cert': value })
      expect(answer.status, value.slice(0, 20)).toBe(401)
    }
  })

  it('prefers the header of a trusted proxy over the proxy own TLS certificate', async () => {
    const proxyCertificate = await pki.client('C=DE, O=Example, CN=orders')
    const { url } = await startTlsServer(config(['127.0.0.1']), pki.server)
    // The proxy connects with a certificate that would match; without the header it is not used.
    const own = await tlsPost(`${url}/token`, REQUEST, { ca: pki.ca.pem, cert: proxyCertificate })
    expectOAuthError(own, 401, 'invalid_client')
    const forwarded = await tlsPost(`${url}/token`, REQUEST, {
      ca: pki.ca.pem,
      cert: proxyCertificate,
      headers: { 'client-cert': clientCertHeader(orders) },
    })
    expect(forwarded.status, forwarded.text).toBe(200)
    expect(decodeJwt(forwarded.json.access_token).cnf).toEqual({ 'x5t#S256': x5tS256(orders) })
  })

  it('uses the TLS certificate and ignores the header when the peer is not a trusted proxy', async () => {
    const { url } = await startTlsServer(config(['10.0.0.1']), pki.server)
    const answer = await tlsPost(`${url}/token`, REQUEST, {
      ca: pki.ca.pem,
      cert: orders,
      headers: { 'client-cert': clientCertHeader(billing) },
    })
    expect(answer.status, answer.text).toBe(200)
    expect(decodeJwt(answer.json.access_token).cnf).toEqual({ 'x5t#S256': x5tS256(orders) })
  })
})

describe('handle(request, { clientCertificate })', () => {
  const issuer = 'https://as.example.com'
  const request = () =>
    new Request(`${issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': FORM },
      body: new URLSearchParams(REQUEST).toString(),
    })

  it('authenticates with the certificate the host gives (X509Certificate, PEM or DER) and binds the token', async () => {
    const server = await createAuthorizationServer({ issuer, ...config(undefined) })
    for (const clientCertificate of [new X509Certificate(orders.pem), orders.pem, der(orders)]) {
      const response = await server.handle(request(), { clientCertificate })
      expect(response.status).toBe(200)
      const body = (await response.json()) as { access_token: string }
      expect(decodeJwt(body.access_token).cnf).toEqual({ 'x5t#S256': x5tS256(orders) })
    }
    expect((await server.handle(request(), { clientCertificate: billing.pem })).status).toBe(401)
    expect((await server.handle(request())).status).toBe(401)
  })

  it('reads the header instead when remoteAddress is a trusted proxy with a certificateHeader', async () => {
    const server = await createAuthorizationServer({ issuer, ...config(['10.0.0.1']) })
    const withHeader = () => {
      const r = request()
      r.headers.set('client-cert', clientCertHeader(orders))
      return r
    }
    expect(
      (await server.handle(withHeader(), { remoteAddress: '10.0.0.1', clientCertificate: billing.pem }))
        .status,
    ).toBe(200)
    expect(
      (await server.handle(withHeader(), { remoteAddress: '10.0.0.2', clientCertificate: billing.pem }))
        .status,
    ).toBe(401)
    expect((await server.handle(withHeader(), { remoteAddress: '10.0.0.2' })).status).toBe(401)
  })
})
