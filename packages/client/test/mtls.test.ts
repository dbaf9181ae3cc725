/**
 * The token client with a mutual-TLS strategy (RFC 8705): the certificate is presented to the
 * authorization server, at its `mtls_endpoint_aliases` token endpoint when it has one (§5), and to
 * the allowed origins of `fetch` and the interceptor, never to other origins; a dispatcher of the
 * user's replaces the client's own everywhere.
 */
import {
  ConfigurationError,
  clientSecretBasic,
  createTokenClient,
  DiscoveryError,
  MemoryTokenStore,
  selfSignedTlsClientAuth,
  type TokenClient,
  type TokenClientOptions,
  tlsClientAuth,
} from '@oauth-m2m/client'
import { Agent, type Dispatcher, getGlobalDispatcher, request, setGlobalDispatcher } from 'undici'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  issueCertificate,
  type TestCertificate,
  type TestPki,
  testPki,
} from '../../core/test/support/certificates.js'
import {
  type MtlsAuthorizationServer,
  type MtlsListener,
  startMtlsAuthorizationServer,
  startMtlsListener,
} from './mtls-servers.js'

let pki: TestPki
let certificate: TestCertificate
let second: TestCertificate
let as: MtlsAuthorizationServer
let api: MtlsListener
let elsewhere: MtlsListener
const clients: TokenClient[] = []
const agents: Dispatcher[] = []

beforeAll(async () => {
  pki = await testPki()
  ;[certificate, second] = await Promise.all([
    pki.client('CN=orders-service', { dns: ['orders.example.test'] }),
    pki.client('CN=orders-service', { dns: ['orders.example.test'] }),
  ])
  as = await startMtlsAuthorizationServer(pki)
  const ok = () => ({ status: 200, json: { ok: true } })
  api = await startMtlsListener(pki, ok)
  elsewhere = await startMtlsListener(pki, ok)
})

afterAll(async () => {
  await Promise.all([as.close(), api.close(), elsewhere.close()])
})

beforeEach(() => {
  as.metadata = {}
  for (const listener of [as.main, as.alias, api, elsewhere]) listener.seen.length = 0
})

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
  await Promise.all(agents.splice(0).map((a) => a.close()))
})

function auth(cert = certificate) {
  return tlsClientAuth({ cert: cert.pem, key: cert.keyPem, ca: pki.ca.pem })
}

function client(options: Partial<TokenClientOptions> = {}): TokenClient {
  const created = createTokenClient({
    issuer: as.issuer,
    clientId: 'orders-service',
    auth: auth(),
    origins: [api.origin],
    retry: false,
    ...options,
  })
  clients.push(created)
  return created
}

/** An Agent that trusts the test CA and presents no certificate. */
function trustingAgent(): Agent {
  const agent = new Agent({ connect: { ca: [pki.ca.pem] } })
  agents.push(agent)
  return agent
}

describe('token requests with a mutual-TLS strategy', () => {
  it("go to the metadata's mtls_endpoint_aliases token endpoint, presenting the certificate, with client_id", async () => {
    const strategy = auth()
    await client({ auth: strategy }).getToken()
    const [sent, ...others] = as.tokenRequests()
    expect(others).toEqual([])
    expect(sent).toMatchObject({ listener: 'alias', method: 'POST', thumbprint: strategy.tls.thumbprint })
    expect(Object.fromEntries(new URLSearchParams(sent!.body))).toEqual({
      grant_type: 'client_credentials',
      client_id: 'orders-service',
    })
    expect(sent!.headers.authorization).toBeUndefined()
    // Discovery went through the same Agent (its ca is the authorization server's trust).
    expect(as.main.seen[0]).toMatchObject({ method: 'GET', thumbprint: strategy.tls.thumbprint })
  })

  it('go to the conventional token endpoint when the metadata has no alias', async () => {
    as.metadata = { mtls_endpoint_aliases: { revocation_endpoint: `${as.alias.origin}/revoke` } }
    const strategy = auth()
    await client({ auth: strategy }).getToken()
    expect(as.tokenRequests()).toMatchObject([{ listener: 'main', thumbprint: strategy.tls.thumbprint }])
  })

  it('with selfSignedTlsClientAuth too', async () => {
    const selfSigned = await issueCertificate({ subject: 'CN=orders-service', usage: 'client' })
    const strategy = selfSignedTlsClientAuth({
      cert: selfSigned.pem,
      key: selfSigned.privateKey,
      ca: pki.ca.pem,
    })
    await client({ auth: strategy }).getToken()
    expect(as.tokenRequests()).toMatchObject([{ listener: 'alias', thumbprint: strategy.tls.thumbprint }])
  })

  it('are refused a malformed alias rather than sent where no certificate is expected', async () => {
    for (const aliases of ['https://x.example', { token_endpoint: 'not a url' }, { token_endpoint: 7 }]) {
      as.metadata = { mtls_endpoint_aliases: aliases }
      await expect(client().getToken()).rejects.toBeInstanceOf(DiscoveryError)
    }
    expect(as.tokenRequests()).toEqual([])
  })

  it('need https: an http token endpoint is refused at creation, a discovered one at discovery', async () => {
    expect(() =>
      createTokenClient({ tokenEndpoint: 'http://127.0.0.1:1/token', clientId: 'a', auth: auth() }),
    ).toThrow(ConfigurationError)
    expect(() =>
      createTokenClient({ tokenEndpoint: 'http://127.0.0.1:1/token', clientId: 'a', auth: auth() }),
    ).toThrow(/tls_client_auth needs an https: tokenEndpoint/)
    as.metadata = { mtls_endpoint_aliases: { token_endpoint: 'http://127.0.0.1:1/token' } }
    await expect(client().getToken()).rejects.toThrow(/not an https URL, where tls_client_auth could present/)
  })

  it("go through the user's dispatcher when one is given: it must present the certificate itself", async () => {
    const strategy = auth()
    await client({ auth: strategy, dispatcher: trustingAgent() }).getToken()
    const carrying = new Agent({ connect: strategy.tls.connectOptions() })
    agents.push(carrying)
    await client({ auth: strategy, dispatcher: carrying }).getToken()
    expect(as.tokenRequests().map((r) => [r.listener, r.thumbprint])).toEqual([
      ['alias', undefined],
      ['alias', strategy.tls.thumbprint],
    ])
  })

  it('use the alias only for a mutual-TLS strategy: a secret client keeps the conventional endpoint', async () => {
    await client({ auth: clientSecretBasic('s3cret'), dispatcher: trustingAgent() }).getToken()
    expect(as.tokenRequests()).toMatchObject([{ listener: 'main', thumbprint: undefined }])
  })

  it('keep the certificate under DPoP: the token request carries a proof and presents the certificate', async () => {
    const strategy = auth()
    const token = await client({ auth: strategy, dpop: true }).getToken()
    expect(token.tokenType).toBe('DPoP')
    const [sent] = as.tokenRequests()
    expect(sent).toMatchObject({ listener: 'alias', thumbprint: strategy.tls.thumbprint })
    expect(sent!.headers.dpop).toEqual(expect.any(String))
  })

  it('cache tokens per certificate: a store shared by instances with different certificates serves each its own', async () => {
    const store = new MemoryTokenStore()
    const a = await client({ auth: auth(certificate), store }).getToken()
    const b = await client({ auth: auth(second), store }).getToken()
    const again = await client({ auth: auth(certificate), store }).getToken()
    expect(b.accessToken).not.toBe(a.accessToken)
    expect(again.accessToken).toBe(a.accessToken)
    expect(as.tokenRequests()).toHaveLength(2)
  })
})

describe('client.fetch and the interceptor with a mutual-TLS strategy', () => {
  let previous: Dispatcher
  beforeAll(() => {
    // Requests the client sends through undici's global dispatcher must trust the test CA too.
    previous = getGlobalDispatcher()
    setGlobalDispatcher(new Agent({ connect: { ca: [pki.ca.pem] } }))
  })
  afterAll(async () => {
    const ours = getGlobalDispatcher()
    setGlobalDispatcher(previous)
    await ours.close()
  })

  it('client.fetch presents the certificate to the allowed origins only', async () => {
    const strategy = auth()
    const tokens = client({ auth: strategy })
    const res = await tokens.fetch(`${api.origin}/orders`)
    expect(res.status).toBe(200)
    await res.arrayBuffer()
    const other = await tokens.fetch(`${elsewhere.origin}/`)
    await other.arrayBuffer()
    expect(api.seen).toMatchObject([{ path: '/orders', thumbprint: strategy.tls.thumbprint }])
    expect(String(api.seen[0]!.headers.authorization)).toMatch(/^Bearer at-/)
    expect(elsewhere.seen.map((s) => [s.thumbprint, s.headers.authorization])).toEqual([
      [undefined, undefined],
    ])
  })

  it('the interceptor dispatches the allowed origins through the certificate, others through the composed Agent', async () => {
    const strategy = auth()
    const tokens = client({ auth: strategy })
    const composed = trustingAgent().compose(tokens.interceptor())
    for (const url of [`${api.origin}/a`, `${elsewhere.origin}/b`, `${api.origin}/c`]) {
      const res = await request(url, { dispatcher: composed, method: 'POST', body: 'x' })
      expect(res.statusCode).toBe(200)
      await res.body.text()
    }
    expect(api.seen.map((s) => [s.path, s.thumbprint])).toEqual([
      ['/a', strategy.tls.thumbprint],
      ['/c', strategy.tls.thumbprint],
    ])
    expect(elsewhere.seen.map((s) => [s.path, s.thumbprint])).toEqual([['/b', undefined]])
  })

  it("with the user's dispatcher, fetch and the interceptor leave presenting a certificate to it", async () => {
    const tokens = client({ dispatcher: trustingAgent() })
    const res = await tokens.fetch(`${api.origin}/orders`)
    await res.arrayBuffer()
    const composed = trustingAgent().compose(tokens.interceptor())
    await (await request(`${api.origin}/x`, { dispatcher: composed })).body.text()
    expect(api.seen.map((s) => s.thumbprint)).toEqual([undefined, undefined])
    expect(api.seen.every((s) => String(s.headers.authorization).startsWith('Bearer '))).toBe(true)
  })
})
