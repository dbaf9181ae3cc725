/**
 * Mutual TLS (RFC 8705) end to end over real loopback TLS, our parts on both sides: our client
 * (`tlsClientAuth`, `selfSignedTlsClientAuth`) gets certificate-bound tokens from our reference
 * server's TLS listener, finds the `mtls_endpoint_aliases` token endpoint when the main one asks
 * for no certificate, is refused with a certificate that is not its own, and presents the same
 * certificate to a resource server through `client.fetch`. Certificates are made at test time with
 * core's test PKI (@peculiar/x509).
 */
import { createPublicKey } from 'node:crypto'
import { createServer as createHttpsServer, type Server } from 'node:https'
import { type AddressInfo, createServer as createNetServer } from 'node:net'
import type { TLSSocket } from 'node:tls'
import {
  createTokenClient,
  selfSignedTlsClientAuth,
  type TlsClientAuthStrategy,
  type TokenClient,
  tlsClientAuth,
} from '@oauth-m2m/client'
import { type AuthorizationServer, type ClientMetadata, createAuthorizationServer } from '@oauth-m2m/server'
import { decodeJwt, type JWK } from 'jose'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  issueCertificate,
  type TestCertificate,
  type TestPki,
  testPki,
} from '../../packages/core/test/support/certificates.js'
import { thumbprintOf } from './support/certificate-thumbprint.js'

const RESOURCE = 'https://api.example.test/'

let pki: TestPki
let orders: TestCertificate
let billing: TestCertificate
let selfSigned: TestCertificate

function clientsFor(): ClientMetadata[] {
  const der = Buffer.from(selfSigned.certificate.rawData).toString('base64')
  const jwk = createPublicKey(selfSigned.privateKey).export({ format: 'jwk' }) as JWK
  return [
    {
      client_id: 'orders',
      token_endpoint_auth_method: 'tls_client_auth',
      tls_client_auth_san_dns: 'orders.svc.example.test',
      tls_client_certificate_bound_access_tokens: true,
      scope: 'read',
    },
    {
      client_id: 'reports',
      token_endpoint_auth_method: 'self_signed_tls_client_auth',
      jwks: { keys: [{ ...jwk, x5c: [der] }] },
      tls_client_certificate_bound_access_tokens: true,
      scope: 'read',
    },
  ]
}

const servers: AuthorizationServer[] = []
const clients: TokenClient[] = []

beforeAll(async () => {
  pki = await testPki()
  orders = await pki.client('CN=orders', { dns: ['orders.svc.example.test'] })
  billing = await pki.client('CN=billing', { dns: ['billing.svc.example.test'] })
  selfSigned = await issueCertificate({ subject: 'CN=reports', usage: 'client' })
})

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
  await Promise.all(servers.splice(0).map((s) => s.close()))
})

async function tlsServer(): Promise<string> {
  const server = await createAuthorizationServer({
    clients: clientsFor(),
    resources: [{ resource: RESOURCE }],
    mtls: { ca: pki.ca.pem },
  })
  servers.push(server)
  const { url } = await server.listen({ tls: { key: pki.server.keyPem, cert: pki.server.pem } })
  return url
}

function client(
  issuer: string,
  clientId: string,
  auth: TlsClientAuthStrategy,
  origins?: string[],
): TokenClient {
  const tokenClient = createTokenClient({
    issuer,
    clientId,
    auth,
    resource: RESOURCE,
    retry: false,
    ...(origins ? { origins } : {}),
  })
  clients.push(tokenClient)
  return tokenClient
}

const auth = (certificate: TestCertificate) =>
  tlsClientAuth({ cert: certificate.pem, key: certificate.keyPem, ca: pki.ca.pem })

describe('our client against our server over mutual TLS', () => {
  it('tls_client_auth: a token bound to the certificate the client presented', async () => {
    const issuer = await tlsServer()
    const strategy = auth(orders)
    const token = await client(issuer, 'orders', strategy).getToken()
    expect(token.tokenType).toBe('Bearer')
    const claims = decodeJwt(token.accessToken)
    expect(claims).toMatchObject({ iss: issuer, client_id: 'orders', aud: RESOURCE, scope: 'read' })
    expect(claims.cnf).toEqual({ 'x5t#S256': thumbprintOf(orders.pem) })
    expect(strategy.tls.thumbprint).toBe(thumbprintOf(orders.pem))
  })

  it('self_signed_tls_client_auth: the certificate registered as x5c', async () => {
    const issuer = await tlsServer()
    const strategy = selfSignedTlsClientAuth({ cert: selfSigned.pem, key: selfSigned.keyPem, ca: pki.ca.pem })
    const token = await client(issuer, 'reports', strategy).getToken()
    expect(decodeJwt(token.accessToken).cnf).toEqual({ 'x5t#S256': thumbprintOf(selfSigned.pem) })
  })

  it('is refused with invalid_client when it presents a certificate that is not its own', async () => {
    const issuer = await tlsServer()
    await expect(client(issuer, 'orders', auth(billing)).getToken()).rejects.toMatchObject({
      error: 'invalid_client',
      status: 401,
    })
    const otherSelfSigned = await issueCertificate({ subject: 'CN=reports', usage: 'client' })
    const strategy = selfSignedTlsClientAuth({
      cert: otherSelfSigned.pem,
      key: otherSelfSigned.keyPem,
      ca: pki.ca.pem,
    })
    await expect(client(issuer, 'reports', strategy).getToken()).rejects.toMatchObject({
      error: 'invalid_client',
    })
  })

  it('uses the mtls_endpoint_aliases token endpoint when the main listener asks for no certificate', async () => {
    const [plainPort, tlsPort] = await freePorts(2)
    const issuer = `http://127.0.0.1:${plainPort}`
    const alias = `https://127.0.0.1:${tlsPort}/mtls/token`
    const server = await createAuthorizationServer({
      issuer,
      clients: clientsFor(),
      resources: [{ resource: RESOURCE }],
      mtls: { ca: pki.ca.pem, endpointAliases: { token: alias } },
    })
    servers.push(server)
    await server.listen({ port: plainPort })
    await server.listen({ port: tlsPort, tls: { key: pki.server.keyPem, cert: pki.server.pem } })
    expect(server.metadata.mtls_endpoint_aliases).toEqual({ token_endpoint: alias })
    const token = await client(issuer, 'orders', auth(orders)).getToken()
    expect(decodeJwt(token.accessToken).cnf).toEqual({ 'x5t#S256': thumbprintOf(orders.pem) })
  })

  describe('at a resource server', () => {
    let api: { server: Server; origin: string; seen: (string | undefined)[] }
    beforeAll(async () => {
      const seen: (string | undefined)[] = []
      const server = createHttpsServer(
        { key: pki.server.keyPem, cert: pki.server.pem, requestCert: true, rejectUnauthorized: false },
        (req, res) => {
          const peer = (req.socket as TLSSocket).getPeerX509Certificate()
          seen.push(peer === undefined ? undefined : thumbprintOf(peer.toString()))
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true }))
        },
      )
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      api = { server, origin: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, seen }
    })
    afterAll(async () => {
      api.server.closeAllConnections()
      await new Promise<void>((resolve) => api.server.close(() => resolve()))
    })

    it('client.fetch presents the certificate the token is bound to', async () => {
      const issuer = await tlsServer()
      const tokenClient = client(issuer, 'orders', auth(orders), [api.origin])
      const res = await tokenClient.fetch(`${api.origin}/orders`)
      expect(res.status).toBe(200)
      await res.text()
      const { accessToken } = await tokenClient.getToken()
      expect(api.seen).toEqual([(decodeJwt(accessToken).cnf as Record<string, string>)['x5t#S256']])
    })
  })
})

/** `count` free loopback ports (a listener's port, closed at once): the aliases need them in advance. */
async function freePorts(count: number): Promise<number[]> {
  const ports: number[] = []
  for (let i = 0; i < count; i++) {
    const server = createNetServer()
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    ports.push((server.address() as AddressInfo).port)
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }
  return ports
}
