/**
 * Mutual-TLS client authentication (RFC 8705 §2) over real TLS on loopback, with a CA, server and
 * client certificates made at test time: `tls_client_auth` by subject DN and by each SAN kind,
 * `self_signed_tls_client_auth` by the `x5c` of the client's `jwks` (or `jwks_uri`), each with its
 * failures; and secret clients on the same listener, with or without a certificate.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { ClientMetadata } from '@oauth-m2m/server'
import { decodeJwt } from 'jose'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  issueCertificate,
  jwkWithX5c,
  startTlsServer,
  type TestCertificate,
  type TestPki,
  testPki,
  tlsPost,
} from './mtls-support.js'
import { basic, expectOAuthError } from './test-server.js'

const GRANT = { grant_type: 'client_credentials' }

let pki: TestPki
let otherPki: TestPki
/** CN=orders,O=Example,C=DE (peculiar writes a DN string in DER order: C first). */
let orders: TestCertificate
let billing: TestCertificate
let withSans: TestCertificate
let expired: TestCertificate
let notYetValid: TestCertificate
let foreign: TestCertificate
let selfSigned: TestCertificate
let otherSelfSigned: TestCertificate

beforeAll(async () => {
  pki = await testPki()
  otherPki = await testPki('another CA')
  orders = await pki.client('C=DE, O=Example, CN=orders')
  billing = await pki.client('C=DE, O=Example, CN=billing')
  withSans = await pki.client('CN=sans', {
    dns: ['orders.svc.example.com'],
    uri: ['spiffe://example.org/ns/prod/sa/orders'],
    ip: ['10.1.2.3', '2001:db8::7'],
    email: ['orders@example.com'],
  })
  const day = 86_400_000
  expired = await issueCertificate({
    subject: 'C=DE, O=Example, CN=orders',
    issuer: pki.ca,
    usage: 'client',
    notBefore: new Date(Date.now() - 2 * day),
    notAfter: new Date(Date.now() - day),
  })
  notYetValid = await issueCertificate({
    subject: 'C=DE, O=Example, CN=orders',
    issuer: pki.ca,
    usage: 'client',
    notBefore: new Date(Date.now() + day),
    notAfter: new Date(Date.now() + 2 * day),
  })
  foreign = await otherPki.client('C=DE, O=Example, CN=orders')
  selfSigned = await issueCertificate({ subject: 'CN=self-signed orders', usage: 'client' })
  otherSelfSigned = await issueCertificate({ subject: 'CN=self-signed orders', usage: 'client' })
})

function mtls(clients: ClientMetadata[], extra: Record<string, unknown> = {}) {
  return startTlsServer({ clients, mtls: { ca: pki.ca.pem }, ...extra }, pki.server)
}

async function token(url: string, clientId: string, cert: TestCertificate | undefined) {
  return tlsPost(`${url}/token`, { ...GRANT, client_id: clientId }, { ca: pki.ca.pem, cert })
}

describe('tls_client_auth (RFC 8705 §2.1)', () => {
  const byDn = {
    client_id: 'orders',
    token_endpoint_auth_method: 'tls_client_auth',
    tls_client_auth_subject_dn: 'CN=orders,O=Example,C=DE',
    scope: 'read',
  } as const

  it('authenticates a client whose certificate has the registered subject DN; tokens are not bound by default', async () => {
    const { url } = await mtls([byDn])
    const answer = await token(url, 'orders', orders)
    expect(answer.status, answer.text).toBe(200)
    expect(answer.json.token_type).toBe('Bearer')
    const claims = decodeJwt(answer.json.access_token)
    expect(claims.client_id).toBe('orders')
    expect(claims.cnf).toBeUndefined()
  })

  it('compares the DN after RFC 4514 normalisation: case, spaces around separators, attribute aliases', async () => {
    const { url } = await mtls([{ ...byDn, tls_client_auth_subject_dn: 'cn=ORDERS, o=example, 2.5.4.6=de' }])
    expect((await token(url, 'orders', orders)).status).toBe(200)
  })

  it('refuses the DN in the wrong order: an RFC 4514 string lists the last RDN first', async () => {
    const { url } = await mtls([{ ...byDn, tls_client_auth_subject_dn: 'C=DE,O=Example,CN=orders' }])
    expectOAuthError(await token(url, 'orders', orders), 401, 'invalid_client')
  })

  it('refuses a certificate with another subject DN', async () => {
    const { url } = await mtls([byDn])
    const answer = expectOAuthError(await token(url, 'orders', billing), 401, 'invalid_client')
    expect(answer.json.error_description).toContain('does not match')
  })

  it('refuses the certificate of another client (its own DN, the other client_id)', async () => {
    const { url } = await mtls([
      byDn,
      { ...byDn, client_id: 'billing', tls_client_auth_subject_dn: 'CN=billing,O=Example,C=DE' },
    ])
    expect((await token(url, 'billing', billing)).status).toBe(200)
    expectOAuthError(await token(url, 'billing', orders), 401, 'invalid_client')
  })

  it('refuses a certificate with the right DN from a CA that is not configured', async () => {
    const { url } = await mtls([byDn])
    const answer = expectOAuthError(await token(url, 'orders', foreign), 401, 'invalid_client')
    expect(answer.json.error_description).toContain('not issued by a trusted CA')
  })

  it('refuses an expired certificate and one not valid yet, by the server clock', async () => {
    const { url } = await mtls([byDn])
    expect(
      expectOAuthError(await token(url, 'orders', expired), 401, 'invalid_client').json.error_description,
    ).toContain('expired')
    expect(
      expectOAuthError(await token(url, 'orders', notYetValid), 401, 'invalid_client').json.error_description,
    ).toContain('not valid yet')
  })

  it('follows the now option: a certificate valid today is expired three days later', async () => {
    const { url } = await mtls([byDn], { now: () => Date.now() + 3 * 86_400_000 })
    expectOAuthError(await token(url, 'orders', orders), 401, 'invalid_client')
  })

  it('refuses a request without a certificate, and without client_id', async () => {
    const { url } = await mtls([byDn])
    const none = expectOAuthError(await token(url, 'orders', undefined), 401, 'invalid_client')
    expect(none.json.error_description).toContain('no client certificate')
    const noId = await tlsPost(`${url}/token`, GRANT, { ca: pki.ca.pem, cert: orders })
    expectOAuthError(noId, 401, 'invalid_client')
  })

  it('refuses the CA certificate itself presented as a client certificate', async () => {
    const { url } = await mtls([{ ...byDn, tls_client_auth_subject_dn: 'CN=oauth-m2m test CA' }])
    const answer = expectOAuthError(await token(url, 'orders', pki.ca), 401, 'invalid_client')
    expect(answer.json.error_description).toContain('CA certificate')
  })

  it('refuses a certificate whose extended key usage is TLS server only', async () => {
    const serverOnly = await issueCertificate({
      subject: 'C=DE, O=Example, CN=orders',
      issuer: pki.ca,
      usage: 'server',
    })
    const { url } = await mtls([byDn])
    expectOAuthError(await token(url, 'orders', serverOnly), 401, 'invalid_client')
  })

  const sanCases: [string, string, string][] = [
    ['tls_client_auth_san_dns', 'orders.svc.example.com', 'billing.svc.example.com'],
    [
      'tls_client_auth_san_uri',
      'spiffe://example.org/ns/prod/sa/orders',
      'spiffe://example.org/ns/prod/sa/billing',
    ],
    ['tls_client_auth_san_ip', '10.1.2.3', '10.1.2.4'],
    ['tls_client_auth_san_ip', '2001:db8:0:0::7', '2001:db8::8'],
    ['tls_client_auth_san_email', 'orders@example.com', 'billing@example.com'],
  ]
  for (const [member, registered, other] of sanCases) {
    it(`matches ${member} ${registered}, and refuses a mismatch (${other})`, async () => {
      const base = { client_id: 'orders', token_endpoint_auth_method: 'tls_client_auth' } as const
      const { url } = await mtls([
        { ...base, [member]: registered },
        { ...base, client_id: 'other', [member]: other },
      ])
      expect((await token(url, 'orders', withSans)).status).toBe(200)
      expectOAuthError(await token(url, 'other', withSans), 401, 'invalid_client')
      // A certificate without SANs matches no SAN registration.
      expectOAuthError(await token(url, 'orders', orders), 401, 'invalid_client')
    })
  }

  it('does not read a wildcard dNSName SAN as matching a name under it', async () => {
    const wildcard = await pki.client('CN=wild', { dns: ['*.svc.example.com'] })
    const { url } = await mtls([
      {
        client_id: 'orders',
        token_endpoint_auth_method: 'tls_client_auth',
        tls_client_auth_san_dns: 'orders.svc.example.com',
      },
    ])
    expectOAuthError(await token(url, 'orders', wildcard), 401, 'invalid_client')
  })

  it('authenticates at introspection and revocation too', async () => {
    const { url } = await mtls([byDn])
    const issued = await token(url, 'orders', orders)
    const introspection = await tlsPost(
      `${url}/introspect`,
      { client_id: 'orders', token: issued.json.access_token },
      { ca: pki.ca.pem, cert: orders },
    )
    expect(introspection.json).toMatchObject({ active: true, client_id: 'orders' })
    const refused = await tlsPost(
      `${url}/introspect`,
      { client_id: 'orders', token: issued.json.access_token },
      { ca: pki.ca.pem, cert: billing },
    )
    expectOAuthError(refused, 401, 'invalid_client')
    const revoked = await tlsPost(
      `${url}/revoke`,
      { client_id: 'orders', token: issued.json.access_token },
      { ca: pki.ca.pem, cert: orders },
    )
    expect(revoked.status).toBe(200)
  })
})

describe('self_signed_tls_client_auth (RFC 8705 §2.2)', () => {
  it('authenticates a client whose certificate is the x5c of a key in its jwks, and refuses another', async () => {
    const { url } = await mtls([
      {
        client_id: 'self',
        token_endpoint_auth_method: 'self_signed_tls_client_auth',
        jwks: { keys: [jwkWithX5c(selfSigned)] },
      },
    ])
    expect((await token(url, 'self', selfSigned)).status).toBe(200)
    const other = expectOAuthError(await token(url, 'self', otherSelfSigned), 401, 'invalid_client')
    expect(other.json.error_description).toContain('not one registered')
    // A CA-issued certificate is not the registered one either.
    expectOAuthError(await token(url, 'self', orders), 401, 'invalid_client')
    expectOAuthError(await token(url, 'self', undefined), 401, 'invalid_client')
  })

  it('works without mtls.ca, and reads the certificates from jwks_uri', async () => {
    const jwks = { keys: [jwkWithX5c(selfSigned)] }
    const host = createServer((_req, res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks)),
    )
    await new Promise<void>((resolve) => host.listen(0, '127.0.0.1', resolve))
    try {
      const jwksUri = `http://127.0.0.1:${(host.address() as AddressInfo).port}/jwks`
      const { url } = await startTlsServer(
        {
          clients: [
            {
              client_id: 'self',
              token_endpoint_auth_method: 'self_signed_tls_client_auth',
              jwks_uri: jwksUri,
            },
          ],
          mtls: {},
        },
        pki.server,
      )
      expect((await token(url, 'self', selfSigned)).status).toBe(200)
      expectOAuthError(await token(url, 'self', otherSelfSigned), 401, 'invalid_client')
    } finally {
      host.closeAllConnections()
      await new Promise<void>((resolve) => host.close(() => resolve()))
    }
  })
})

describe('the same TLS listener for secret clients', () => {
  it('serves client_secret_basic with and without a client certificate', async () => {
    const { url } = await mtls([{ client_id: 'svc', client_secret: 'svc-secret', scope: 'read' }])
    for (const cert of [undefined, orders]) {
      const answer = await tlsPost(`${url}/token`, GRANT, {
        ca: pki.ca.pem,
        cert,
        headers: basic('svc', 'svc-secret'),
      })
      expect(answer.status, answer.text).toBe(200)
      expect(decodeJwt(answer.json.access_token).cnf).toBeUndefined()
    }
  })

  it('does not let a certificate stand in for a secret client', async () => {
    const { url } = await mtls([{ client_id: 'svc', client_secret: 'svc-secret' }])
    expectOAuthError(await token(url, 'svc', orders), 401, 'invalid_client')
  })
})
