/**
 * Interop of the client's mutual-TLS authentication (RFC 8705) with a certified server no one here
 * wrote: oidc-provider 9, with `features.mTLS` (tls_client_auth, self_signed_tls_client_auth,
 * certificate-bound access tokens), behind two node https listeners on loopback that use a CA,
 * server and client certificates made at test time (@peculiar/x509): the conventional one, which
 * asks for no certificate, and the RFC 8705 §5 alias, which asks for one and is named in the
 * metadata's `mtls_endpoint_aliases`. The client must find the alias, get certificate-bound tokens
 * whose `cnf["x5t#S256"]` is its certificate's thumbprint, be refused with a wrong certificate,
 * and present the certificate to a resource server through `client.fetch` and the interceptor.
 */
import { createHash, generateKeyPairSync, type X509Certificate } from 'node:crypto'
import { createServer, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import type { TLSSocket } from 'node:tls'
import {
  createTokenClient,
  OAuthResponseError,
  selfSignedTlsClientAuth,
  type TlsClientAuthStrategy,
  type TokenClient,
  tlsClientAuth,
} from '@oauth-m2m/client'
import { createLocalJWKSet, decodeJwt, exportJWK, type JSONWebKeySet, jwtVerify } from 'jose'
import Provider from 'oidc-provider'
import { Agent, request } from 'undici'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  issueCertificate,
  type TestCertificate,
  type TestPki,
  testPki,
} from '../../packages/core/test/support/certificates.js'
import { thumbprintOf } from './support/certificate-thumbprint.js'

const RESOURCE = 'https://api.example.test/'
const PKI_CLIENT = 'orders-service'
const SELF_SIGNED_CLIENT = 'reports-service'
const SAN_DNS = 'orders.example.test'

/** The part of oidc-provider's (koa) request context the mTLS callbacks read. */
interface ProviderContext {
  socket: unknown
}

function peerCertificate(socket: TLSSocket): X509Certificate | undefined {
  return typeof socket.getPeerX509Certificate === 'function' ? socket.getPeerX509Certificate() : undefined
}

interface Listener {
  server: Server
  origin: string
  /** Paths of the POSTs it received. */
  posts: string[]
}

async function listen(options: ConstructorParameters<typeof Server>[0]): Promise<Listener> {
  const server = createServer(options)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const listener: Listener = {
    server,
    origin: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    posts: [],
  }
  server.on('request', (req) => {
    if (req.method === 'POST') listener.posts.push(req.url ?? '')
  })
  return listener
}

async function close(listener: Listener): Promise<void> {
  listener.server.closeAllConnections()
  await new Promise<void>((resolve) => listener.server.close(() => resolve()))
}

interface RunningProvider {
  issuer: string
  /** The conventional listener: metadata, JWKS, and a /token that sees no certificate. */
  main: Listener
  /** The mutual-TLS alias listener: asks for a client certificate. */
  mtls: Listener
  jwks: JSONWebKeySet
  close(): Promise<void>
}

async function startProvider(pki: TestPki, selfSigned: TestCertificate): Promise<RunningProvider> {
  const tls = { key: pki.server.keyPem, cert: pki.server.pem }
  const main = await listen(tls)
  // Certificates are asked for, not required: the decision is oidc-provider's, per client.
  const mtls = await listen({ ...tls, ca: [pki.ca.pem], requestCert: true, rejectUnauthorized: false })
  const issuer = main.origin
  const selfSignedJwk = {
    ...(await exportJWK(selfSigned.keys.publicKey)),
    x5c: [Buffer.from(selfSigned.certificate.rawData).toString('base64')],
  }
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: PKI_CLIENT,
        token_endpoint_auth_method: 'tls_client_auth',
        tls_client_auth_san_dns: SAN_DNS,
        tls_client_certificate_bound_access_tokens: true,
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        scope: 'read',
      },
      {
        client_id: SELF_SIGNED_CLIENT,
        token_endpoint_auth_method: 'self_signed_tls_client_auth',
        jwks: { keys: [selfSignedJwk] },
        tls_client_certificate_bound_access_tokens: true,
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        scope: 'read',
      },
    ],
    jwks: {
      keys: [
        {
          ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }),
          alg: 'ES256',
          use: 'sig',
        },
      ],
    },
    scopes: ['read'],
    ttl: { ClientCredentials: 300 },
    clientDefaults: { id_token_signed_response_alg: 'ES256' },
    clientAuthMethods: ['tls_client_auth', 'self_signed_tls_client_auth'],
    // RFC 8705 §5: token requests with a certificate go to the listener that asks for one.
    discovery: { mtls_endpoint_aliases: { token_endpoint: `${mtls.origin}/token` } },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      mTLS: {
        enabled: true,
        certificateBoundAccessTokens: true,
        tlsClientAuth: true,
        selfSignedTlsClientAuth: true,
        getCertificate: (ctx: ProviderContext) => peerCertificate(ctx.socket as TLSSocket)?.toString(),
        // The chain was checked by node against the CA the listener was given.
        certificateAuthorized: (ctx: ProviderContext) => (ctx.socket as TLSSocket).authorized === true,
        certificateSubjectMatches: (ctx: ProviderContext, property: string, expected: string) => {
          const peer = peerCertificate(ctx.socket as TLSSocket)
          if (property !== 'tls_client_auth_san_dns' || peer === undefined) return false
          return (peer.subjectAltName ?? '').split(', ').includes(`DNS:${expected}`)
        },
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => RESOURCE,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({
          scope: 'read',
          audience: RESOURCE,
          accessTokenTTL: 300,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'ES256' } },
        }),
      },
    },
  })
  const callback = provider.callback()
  main.server.on('request', callback)
  mtls.server.on('request', callback)
  const trusting = new Agent({ connect: { ca: [pki.ca.pem] } })
  const jwks = (await (
    await request(`${issuer}/jwks`, { dispatcher: trusting })
  ).body.json()) as JSONWebKeySet
  await trusting.close()
  return {
    issuer,
    main,
    mtls,
    jwks,
    close: async () => {
      await Promise.all([close(main), close(mtls)])
    },
  }
}

let pki: TestPki
let otherPki: TestPki
let pkiCertificate: TestCertificate
let selfSigned: TestCertificate
let op: RunningProvider
const clients: TokenClient[] = []
const agents: Agent[] = []

beforeAll(async () => {
  ;[pki, otherPki] = await Promise.all([testPki(), testPki('another CA')])
  ;[pkiCertificate, selfSigned] = await Promise.all([
    pki.client(`CN=${PKI_CLIENT},O=oauth-m2m test`, { dns: [SAN_DNS] }),
    issueCertificate({ subject: `CN=${SELF_SIGNED_CLIENT}`, usage: 'client' }),
  ])
  op = await startProvider(pki, selfSigned)
})

afterAll(() => op.close())

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
  await Promise.all(agents.splice(0).map((a) => a.close()))
  op.main.posts.length = 0
  op.mtls.posts.length = 0
})

function mtlsClient(clientId: string, auth: TlsClientAuthStrategy, origins: string[] = []): TokenClient {
  const client = createTokenClient({
    issuer: op.issuer,
    clientId,
    auth,
    scope: 'read',
    resource: RESOURCE,
    ...(origins.length > 0 ? { origins } : {}),
    retry: false,
  })
  clients.push(client)
  return client
}

const pkiAuth = (certificate = pkiCertificate) =>
  tlsClientAuth({ cert: certificate.pem, key: certificate.keyPem, ca: pki.ca.pem })

describe('mutual-TLS client authentication against oidc-provider', () => {
  it('tls_client_auth: a token from the mtls_endpoint_aliases endpoint, bound to the certificate', async () => {
    const auth = pkiAuth()
    const token = await mtlsClient(PKI_CLIENT, auth).getToken()
    expect(token.tokenType).toBe('Bearer')
    const claims = decodeJwt(token.accessToken)
    expect(claims).toMatchObject({ client_id: PKI_CLIENT, aud: RESOURCE, scope: 'read' })
    // RFC 8705 §3.1: the thumbprint the server computed from the handshake is the certificate's.
    expect(claims.cnf).toEqual({ 'x5t#S256': thumbprintOf(pkiCertificate.pem) })
    expect(auth.tls.thumbprint).toBe(thumbprintOf(pkiCertificate.pem))
    expect(op.mtls.posts).toEqual(['/token'])
    expect(op.main.posts).toEqual([])
  })

  it('self_signed_tls_client_auth: a certificate registered in the jwks (x5c) authenticates and binds', async () => {
    const auth = selfSignedTlsClientAuth({ cert: selfSigned.pem, key: selfSigned.privateKey, ca: pki.ca.pem })
    const token = await mtlsClient(SELF_SIGNED_CLIENT, auth).getToken()
    const claims = decodeJwt(token.accessToken)
    expect(claims.client_id).toBe(SELF_SIGNED_CLIENT)
    expect(claims.cnf).toEqual({ 'x5t#S256': thumbprintOf(selfSigned.pem) })
  })

  it.each([
    [
      'a certificate from a CA the server does not trust',
      () => otherPki.client(`CN=${PKI_CLIENT}`, { dns: [SAN_DNS] }),
    ],
    [
      'a certificate of the right CA naming another SAN',
      () => pki.client(`CN=${PKI_CLIENT}`, { dns: ['other.example.test'] }),
    ],
  ])('tls_client_auth is refused with %s (invalid_client)', async (_, make) => {
    const wrong = await make()
    const client = mtlsClient(PKI_CLIENT, pkiAuth(wrong))
    const error = await client.getToken().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(OAuthResponseError)
    expect(error).toMatchObject({ error: 'invalid_client', status: 401 })
    expect(op.mtls.posts).toEqual(['/token'])
  })

  it('self_signed_tls_client_auth is refused a self-signed certificate not in its jwks', async () => {
    const unregistered = await issueCertificate({ subject: `CN=${SELF_SIGNED_CLIENT}`, usage: 'client' })
    const auth = selfSignedTlsClientAuth({ cert: unregistered.pem, key: unregistered.keyPem, ca: pki.ca.pem })
    await expect(mtlsClient(SELF_SIGNED_CLIENT, auth).getToken()).rejects.toMatchObject({
      error: 'invalid_client',
    })
  })

  it("is refused when the user's dispatcher presents no certificate: that is its job, as documented", async () => {
    const plain = new Agent({ connect: { ca: [pki.ca.pem] } })
    agents.push(plain)
    const client = createTokenClient({
      issuer: op.issuer,
      clientId: PKI_CLIENT,
      auth: pkiAuth(),
      resource: RESOURCE,
      dispatcher: plain,
      retry: false,
    })
    clients.push(client)
    await expect(client.getToken()).rejects.toMatchObject({ error: 'invalid_client' })
  })
})

/** A resource server that accepts a certificate-bound token only over a connection presenting that certificate. */
async function startApi(jwks: JSONWebKeySet, issuer: string) {
  const keys = createLocalJWKSet(jwks)
  const seen: { path: string; thumbprint: string | undefined; status: number }[] = []
  const api = await listen({
    key: pki.server.keyPem,
    cert: pki.server.pem,
    ca: [pki.ca.pem],
    requestCert: true,
    rejectUnauthorized: false,
  })
  api.server.on('request', async (req, res) => {
    req.resume()
    const peer = peerCertificate(req.socket as TLSSocket)
    const thumbprint = peer ? createHash('sha256').update(peer.raw).digest('base64url') : undefined
    const entry = { path: req.url ?? '', thumbprint, status: 401 }
    seen.push(entry)
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1]
    try {
      if (token === undefined) throw new Error('no token')
      const { payload } = await jwtVerify(token, keys, { issuer, audience: RESOURCE })
      const bound = (payload.cnf as Record<string, unknown> | undefined)?.['x5t#S256']
      if (bound === undefined || bound !== thumbprint) throw new Error('not the bound certificate')
      entry.status = 200
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ clientId: payload.client_id }))
    } catch {
      res.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"' }).end()
    }
  })
  return { ...api, seen }
}

describe('the certificate-bound token used at a resource server on loopback', () => {
  let api: Awaited<ReturnType<typeof startApi>>
  beforeAll(async () => {
    api = await startApi(op.jwks, op.issuer)
  })
  afterAll(() => close(api))
  afterEach(() => {
    api.seen.length = 0
  })

  it('client.fetch presents the certificate the token is bound to', async () => {
    const auth = pkiAuth()
    const client = mtlsClient(PKI_CLIENT, auth, [api.origin])
    const res = await client.fetch(`${api.origin}/orders`)
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ clientId: PKI_CLIENT })
    expect(api.seen).toEqual([{ path: '/orders', thumbprint: auth.tls.thumbprint, status: 200 }])
  })

  it('the interceptor does the same through undici', async () => {
    const auth = pkiAuth()
    const client = mtlsClient(PKI_CLIENT, auth, [api.origin])
    const agent = new Agent({ connect: { ca: [pki.ca.pem] } })
    agents.push(agent)
    const composed = agent.compose(client.interceptor())
    const res = await request(`${api.origin}/reports`, { dispatcher: composed })
    expect(res.statusCode).toBe(200)
    await res.body.text()
    expect(api.seen).toEqual([{ path: '/reports', thumbprint: auth.tls.thumbprint, status: 200 }])
  })

  it('the same token without the certificate is refused: it is bound, not a bearer token', async () => {
    const { accessToken } = await mtlsClient(PKI_CLIENT, pkiAuth(), [api.origin]).getToken()
    const plain = new Agent({ connect: { ca: [pki.ca.pem] } })
    agents.push(plain)
    const res = await request(`${api.origin}/orders`, {
      dispatcher: plain,
      headers: { authorization: `Bearer ${accessToken}` },
    })
    await res.body.text()
    expect(res.statusCode).toBe(401)
    expect(api.seen).toEqual([{ path: '/orders', thumbprint: undefined, status: 401 }])
  })
})
