/**
 * Interop of the reference server's mutual TLS (RFC 8705) with a certified client no one here
 * wrote: oauth4webapi 3.8.8, with `TlsClientAuth()` and a `customFetch` that sends through an undici
 * `Agent` presenting the client certificate (the way its documentation shows), over real loopback
 * TLS. It discovers the server, follows `mtls_endpoint_aliases` when told to, gets a token bound to
 * its certificate, and introspects it; with another client's certificate it is refused.
 */
import { type AuthorizationServer, createAuthorizationServer } from '@oauth-m2m/server'
import { decodeJwt } from 'jose'
import { Agent, fetch as undiciFetch } from 'undici'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type TestCertificate, type TestPki, testPki } from '../../packages/core/test/support/certificates.js'
import { thumbprintOf } from './support/certificate-thumbprint.js'
import * as oauth from './support/oauth4webapi.js'

const client: oauth.Client = { client_id: 'orders' }

let pki: TestPki
let orders: TestCertificate
let billing: TestCertificate
const agents: Agent[] = []
const servers: AuthorizationServer[] = []

beforeAll(async () => {
  pki = await testPki()
  orders = await pki.client('C=DE, O=Example, CN=orders')
  billing = await pki.client('C=DE, O=Example, CN=billing')
})

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()))
})

afterAll(async () => {
  await Promise.all(agents.splice(0).map((a) => a.close()))
})

/** A fetch for oauth4webapi that presents `certificate` and trusts the test CA. */
function certificateFetch(certificate: TestCertificate) {
  const agent = new Agent({ connect: { cert: certificate.pem, key: certificate.keyPem, ca: pki.ca.pem } })
  agents.push(agent)
  return ((url: string, init: RequestInit) =>
    undiciFetch(url, { ...(init as object), dispatcher: agent })) as unknown as typeof fetch
}

async function start(aliasPath?: string): Promise<string> {
  const server = await createAuthorizationServer({
    clients: [
      {
        client_id: 'orders',
        token_endpoint_auth_method: 'tls_client_auth',
        tls_client_auth_subject_dn: 'CN=orders,O=Example,C=DE',
        tls_client_certificate_bound_access_tokens: true,
        scope: 'read',
      },
    ],
    mtls: {
      ca: pki.ca.pem,
      // The alias's origin is the listener's; only its path is known before it listens.
      ...(aliasPath ? { endpointAliases: { token: `https://mtls.invalid${aliasPath}` } } : {}),
    },
  })
  servers.push(server)
  return (await server.listen({ tls: { key: pki.server.keyPem, cert: pki.server.pem } })).url
}

async function discover(url: string, fetcher: typeof fetch): Promise<oauth.AuthorizationServer> {
  const issuer = new URL(url)
  return oauth.processDiscoveryResponse(
    issuer,
    await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', [oauth.customFetch]: fetcher }),
  )
}

describe('oauth4webapi TlsClientAuth against the reference server', () => {
  it('gets a certificate-bound token and introspects it, authenticating with the certificate', async () => {
    const url = await start()
    const fetcher = certificateFetch(orders)
    const as = await discover(url, fetcher)
    expect(as.token_endpoint_auth_methods_supported).toContain('tls_client_auth')
    expect(as.tls_client_certificate_bound_access_tokens).toBe(true)
    const response = await oauth.clientCredentialsGrantRequest(
      as,
      client,
      oauth.TlsClientAuth(),
      { scope: 'read' },
      { [oauth.customFetch]: fetcher },
    )
    const answer = await oauth.processClientCredentialsResponse(as, client, response)
    expect(decodeJwt(answer.access_token).cnf).toEqual({ 'x5t#S256': thumbprintOf(orders.pem) })
    const introspection = await oauth.processIntrospectionResponse(
      as,
      client,
      await oauth.introspectionRequest(as, client, oauth.TlsClientAuth(), answer.access_token, {
        [oauth.customFetch]: fetcher,
      }),
    )
    expect(introspection).toMatchObject({
      active: true,
      client_id: 'orders',
      cnf: { 'x5t#S256': thumbprintOf(orders.pem) },
    })
  })

  it('follows mtls_endpoint_aliases for a client with use_mtls_endpoint_aliases', async () => {
    const url = await start('/mtls/token')
    const fetcher = certificateFetch(orders)
    const discovered = await discover(url, fetcher)
    expect(discovered.mtls_endpoint_aliases).toEqual({ token_endpoint: 'https://mtls.invalid/mtls/token' })
    // mtls.invalid stands for a host of its own; here it is the same listener, under its path.
    const as = { ...discovered, mtls_endpoint_aliases: { token_endpoint: `${url}/mtls/token` } }
    const seen: string[] = []
    const recording = ((input: string, init: RequestInit) => {
      seen.push(new URL(input).pathname)
      return fetcher(input, init)
    }) as typeof fetch
    const aliasClient = { ...client, use_mtls_endpoint_aliases: true }
    const response = await oauth.clientCredentialsGrantRequest(
      as,
      aliasClient,
      oauth.TlsClientAuth(),
      new URLSearchParams(),
      { [oauth.customFetch]: recording },
    )
    const answer = await oauth.processClientCredentialsResponse(as, aliasClient, response)
    expect(seen).toEqual(['/mtls/token'])
    expect(decodeJwt(answer.access_token).cnf).toEqual({ 'x5t#S256': thumbprintOf(orders.pem) })
  })

  it('is refused with invalid_client when it presents another certificate', async () => {
    const url = await start()
    const fetcher = certificateFetch(billing)
    const as = await discover(url, fetcher)
    const response = await oauth.clientCredentialsGrantRequest(
      as,
      client,
      oauth.TlsClientAuth(),
      new URLSearchParams(),
      {
        [oauth.customFetch]: fetcher,
      },
    )
    const error = await oauth.processClientCredentialsResponse(as, client, response).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(oauth.ResponseBodyError)
    expect((error as oauth.ResponseBodyError).error).toBe('invalid_client')
    expect((error as oauth.ResponseBodyError).status).toBe(401)
  })
})
