/**
 * The mTLS configuration and registrations refused at load with a message naming the field, and the
 * RFC 4514 distinguished-name comparison `tls_client_auth_subject_dn` relies on.
 */
import { X509Certificate } from 'node:crypto'
import { ConfigurationError } from '@oauth-m2m/core'
import {
  type AuthorizationServerConfig,
  type ClientMetadata,
  createAuthorizationServer,
} from '@oauth-m2m/server'
import { beforeAll, describe, expect, it } from 'vitest'
import { nodeSubjectDn, parseRfc4514 } from '../src/subject-dn.js'
import { issueCertificate, jwkWithX5c, type TestPki, testPki } from './mtls-support.js'

let pki: TestPki
beforeAll(async () => {
  pki = await testPki()
})

async function refused(config: AuthorizationServerConfig, message: string): Promise<void> {
  await expect(createAuthorizationServer(config)).rejects.toThrow(ConfigurationError)
  await expect(createAuthorizationServer(config)).rejects.toThrow(message)
}

const TLS = { client_id: 'orders', token_endpoint_auth_method: 'tls_client_auth' } as const

describe('mtls configuration', () => {
  it('refuses tls_client_auth without mtls.ca, and mutual-TLS or bound clients without mtls', async () => {
    await refused(
      { clients: [{ ...TLS, tls_client_auth_san_dns: 'a.example.com' }], mtls: {} },
      'clients[0].token_endpoint_auth_method tls_client_auth needs the server option mtls.ca',
    )
    const self: ClientMetadata = {
      client_id: 'self',
      token_endpoint_auth_method: 'self_signed_tls_client_auth',
      jwks: { keys: [jwkWithX5c(await issueCertificate({ subject: 'CN=self' }))] },
    }
    await refused({ clients: [self] }, 'self_signed_tls_client_auth needs the server option mtls')
    await refused(
      {
        clients: [{ client_id: 'svc', client_secret: 's', tls_client_certificate_bound_access_tokens: true }],
      },
      'clients[0].tls_client_certificate_bound_access_tokens needs the server option mtls',
    )
  })

  it('refuses a tls_client_auth client with none, or two, of the five members', async () => {
    const mtls = { ca: pki.ca.pem }
    await refused({ clients: [TLS], mtls }, 'needs exactly one of tls_client_auth_subject_dn')
    await refused(
      {
        clients: [{ ...TLS, tls_client_auth_san_dns: 'a.example.com', tls_client_auth_san_ip: '10.0.0.1' }],
        mtls,
      },
      '(2 given)',
    )
    await refused(
      { clients: [{ client_id: 'svc', client_secret: 's', tls_client_auth_san_dns: 'a.example.com' }], mtls },
      'clients[0].tls_client_auth_san_dns is for tls_client_auth clients only',
    )
  })

  it('refuses malformed values', async () => {
    const mtls = { ca: pki.ca.pem }
    const cases: [Record<string, string>, string][] = [
      [{ tls_client_auth_subject_dn: 'orders' }, 'tls_client_auth_subject_dn must be an RFC 4514'],
      [{ tls_client_auth_subject_dn: 'CN=#04066f7264657273' }, 'hex-encoded values are not supported'],
      [{ tls_client_auth_san_ip: '10.0.0' }, 'tls_client_auth_san_ip must be an IPv4 or IPv6 address'],
      [{ tls_client_auth_san_uri: 'not a uri' }, 'tls_client_auth_san_uri must be an absolute URI'],
      [{ tls_client_auth_san_dns: '*.example.com' }, 'tls_client_auth_san_dns must be a DNS name'],
      [{ tls_client_auth_san_email: 'orders' }, 'tls_client_auth_san_email must be an email address'],
    ]
    for (const [member, message] of cases) await refused({ clients: [{ ...TLS, ...member }], mtls }, message)
  })

  it('refuses a self_signed_tls_client_auth jwks without x5c, and x5c that is not a certificate', async () => {
    const cert = await issueCertificate({ subject: 'CN=self' })
    const { x5c: _, ...bare } = jwkWithX5c(cert)
    const base = { client_id: 'self', token_endpoint_auth_method: 'self_signed_tls_client_auth' } as const
    await refused(
      { clients: [{ ...base, jwks: { keys: [bare] } }], mtls: {} },
      'holds no key with an x5c certificate',
    )
    await refused(
      { clients: [{ ...base, jwks: { keys: [{ ...bare, x5c: ['AAAA'] }] } }], mtls: {} },
      'clients[0].jwks.keys[0].x5c[0] is not an X.509 certificate',
    )
    await refused(
      { clients: [base], mtls: {} },
      'clients[0].jwks or jwks_uri is required for self_signed_tls_client_auth',
    )
  })

  it('refuses an mtls.ca that holds no CA certificate, unknown options and a bad certificateHeader', async () => {
    const leaf = await pki.client('CN=leaf')
    await refused({ clients: [], mtls: { ca: 'nothing' } }, 'mtls.ca holds no PEM certificate')
    await refused(
      { clients: [], mtls: { ca: leaf.pem } },
      'mtls.ca holds a certificate that is not a CA certificate',
    )
    await refused({ clients: [], mtls: { cas: pki.ca.pem } as never }, 'mtls.cas is not a known option')
    await refused(
      { clients: [], mtls: { endpointAliases: { token: 'ftp://x/token' } } },
      'mtls.endpointAliases.token must be an http or https URL',
    )
    await refused(
      { clients: [], trustedProxy: { addresses: ['10.0.0.1'], certificateHeader: 'client cert' } },
      'trustedProxy.certificateHeader must be an HTTP header name',
    )
  })

  it('applies the same rules to registerClient', async () => {
    const server = await createAuthorizationServer({ clients: [], mtls: {} })
    expect(() => server.registerClient({ ...TLS, tls_client_auth_san_dns: 'a.example.com' })).toThrow(
      'needs the server option mtls.ca',
    )
    const withCa = await createAuthorizationServer({ clients: [], mtls: { ca: pki.ca.pem } })
    expect(
      withCa.registerClient({ ...TLS, tls_client_auth_san_dns: 'a.example.com' }).token_endpoint_auth_method,
    ).toBe('tls_client_auth')
  })
})

describe('subject DN comparison (RFC 4514)', () => {
  it('reads an RFC 4514 string last RDN first, as node renders a subject in DER order', async () => {
    const cert = await issueCertificate({ subject: 'C=DE, O=Example\\, Inc., OU=a+OU=b, CN=orders' })
    const subject = nodeSubjectDn(new X509Certificate(cert.pem).subject)
    expect(subject).toBeDefined()
    expect(parseRfc4514('CN=orders,OU=a+OU=b,O=Example\\, Inc.,C=DE')).toBe(subject)
    // Multi-valued RDN in any order, types by alias or OID, values without regard to case and spaces.
    expect(parseRfc4514('commonName=ORDERS , OU=b+OU=a, 2.5.4.10=example\\2C  inc., c=de')).toBe(subject)
    expect(parseRfc4514('C=DE,O=Example\\, Inc.,OU=a+OU=b,CN=orders')).not.toBe(subject)
    expect(parseRfc4514('CN=orders,OU=a,O=Example\\, Inc.,C=DE')).not.toBe(subject)
    expect(parseRfc4514('CN=orders,O=Example\\, Inc.,C=DE')).not.toBe(subject)
  })

  it('decodes UTF-8 hex escapes and refuses broken ones', () => {
    expect(parseRfc4514('CN=M\\C3\\BCller')).toBe(parseRfc4514('CN=Müller'))
    expect(parseRfc4514('CN=a\\')).toBeUndefined()
    expect(parseRfc4514('CN=\\C3')).toBeUndefined()
    expect(parseRfc4514('=x')).toBeUndefined()
    expect(parseRfc4514('')).toBeUndefined()
  })
})
