/**
 * Certificate-bound tokens at the five middleware (RFC 8705 §3): node:http, Express and Fastify
 * over real mutual TLS on loopback (certificates from the test PKI), and all five behind a
 * TLS-terminating proxy's RFC 9440 `Client-Cert` header, trusted and not trusted.
 */
import { X509Certificate } from 'node:crypto'
import { request as httpRequest } from 'node:http'
import { createServer as createHttpsServer, request as httpsRequest } from 'node:https'
import type { AddressInfo } from 'node:net'
import { createVerifier, type Verifier } from '@oauth-m2m/verifier'
import { bearerAuth as expressBearerAuth } from '@oauth-m2m/verifier/express'
import { bearerAuth as fastifyBearerAuth } from '@oauth-m2m/verifier/fastify'
import { bearerAuth as fetchBearerAuth } from '@oauth-m2m/verifier/fetch'
import { type BearerAuthEnv, bearerAuth as honoBearerAuth } from '@oauth-m2m/verifier/hono'
import {
  type AuthenticatedRequest,
  type BearerAuthOptions,
  bearerAuth as nodeBearerAuth,
} from '@oauth-m2m/verifier/node'
import express from 'express'
import Fastify, { type FastifyInstance } from 'fastify'
import { Hono } from 'hono'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  selfSignedCertificate,
  type TestCertificate,
  type TestPki,
  testPki,
} from '../../../core/test/support/certificates.js'
import { AUDIENCE, accessTokenClaims, ISSUER, makeKey, mintToken, type TestKey } from '../support/keys.js'

let pki: TestPki
let client: TestCertificate
let stranger: TestCertificate
let signer: TestKey
let verifier: Verifier
/** A token bound to `client`'s certificate, and one bound to nothing. */
let bound: string
let bearer: string

beforeAll(async () => {
  pki = await testPki()
  ;[client, stranger, signer] = await Promise.all([
    pki.client('CN=service-a'),
    pki.client('CN=someone-else'),
    makeKey('ES256', 'as-key'),
  ])
  const x5t = Buffer.from(await client.certificate.getThumbprint('SHA-256')).toString('base64url')
  verifier = createVerifier({ issuer: ISSUER, audience: AUDIENCE, jwks: { keys: [signer.publicJwk] } })
  bound = await mintToken(signer, accessTokenClaims({ cnf: { 'x5t#S256': x5t } }))
  bearer = await mintToken(signer)
})

afterAll(() => verifier.close())

/** The RFC 9440 header value for a certificate: an RFC 8941 byte sequence of its DER. */
function clientCertHeader(certificate: TestCertificate): string {
  return `:${Buffer.from(certificate.certificate.rawData).toString('base64')}:`
}

interface Answer {
  status: number
  challenge: string | undefined
  body: string
}

interface Call {
  token: string
  /** The TLS client certificate to present (TLS apps only). */
  certificate?: TestCertificate | undefined
  headers?: Record<string, string>
}

interface App {
  url: string
  close(): Promise<void>
}

function send(app: App, { token, certificate, headers = {} }: Call): Promise<Answer> {
  const url = new URL('/things', app.url)
  const tls = url.protocol === 'https:'
  return new Promise((resolve, reject) => {
    const req = (tls ? httpsRequest : httpRequest)(
      url,
      {
        agent: false,
        headers: { authorization: `Bearer ${token}`, ...headers },
        ...(tls
          ? { ca: pki.ca.pem, ...(certificate ? { cert: certificate.pem, key: certificate.keyPem } : {}) }
          : {}),
      },
      (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (chunk) => {
          body += chunk
        })
        res.on('end', () =>
          resolve({
            status: res.statusCode!,
            challenge: res.headers['www-authenticate'] as string | undefined,
            body,
          }),
        )
      },
    )
    req.on('error', reject)
    req.end()
  })
}

type Framework = 'node' | 'express' | 'fastify'

/** mTLS on: the server asks for a client certificate and lets the middleware judge it. */
function tlsOptions() {
  return {
    key: pki.server.keyPem,
    cert: pki.server.pem,
    ca: pki.ca.pem,
    requestCert: true,
    rejectUnauthorized: false,
  }
}

function listening(server: ReturnType<typeof createHttpsServer>, scheme: 'http' | 'https'): Promise<App> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo
      resolve({
        url: `${scheme}://127.0.0.1:${port}`,
        close: () => new Promise<void>((done) => server.close(() => done())),
      })
    })
  })
}

async function startApp(
  framework: Framework,
  tls: boolean,
  options: Partial<BearerAuthOptions> = {},
): Promise<App> {
  const settings: BearerAuthOptions = { verifier, ...options }
  const scheme = tls ? 'https' : 'http'
  if (framework === 'fastify') {
    // Typed as the plain-HTTP instance: the routes and hooks are the same either way.
    const app = (tls ? Fastify({ https: tlsOptions() }) : Fastify()) as unknown as FastifyInstance
    await app.register(fastifyBearerAuth, settings)
    app.get('/things', async (request) => ({ clientId: request.auth!.clientId }))
    await app.listen({ port: 0, host: '127.0.0.1' })
    const { port } = app.server.address() as AddressInfo
    return { url: `${scheme}://127.0.0.1:${port}`, close: () => app.close() }
  }
  let handler: Parameters<typeof createHttpsServer>[1]
  if (framework === 'express') {
    const app = express()
    app.get('/things', expressBearerAuth(settings), (req, res) => {
      res.json({ clientId: req.auth!.clientId })
    })
    handler = app
  } else {
    const auth = nodeBearerAuth(settings)
    handler = (req, res) => {
      void auth(req, res, () =>
        res.end(JSON.stringify({ clientId: (req as AuthenticatedRequest).auth.clientId })),
      )
    }
  }
  const { createServer } = await import('node:http')
  return listening(tls ? createHttpsServer(tlsOptions(), handler) : (createServer(handler) as never), scheme)
}

describe.each<Framework>(['node', 'express', 'fastify'])('%s over mutual TLS', (framework) => {
  let app: App
  beforeAll(async () => {
    app = await startApp(framework, true)
  })
  afterAll(() => app.close())

  it('accepts a bound token with its certificate', async () => {
    const answer = await send(app, { token: bound, certificate: client })
    expect(answer.status).toBe(200)
    expect(JSON.parse(answer.body)).toEqual({ clientId: 'service-a' })
  })

  it('refuses it with another certificate, or none, as 401 invalid_token', async () => {
    for (const certificate of [stranger, undefined]) {
      const answer = await send(app, { token: bound, certificate })
      expect(answer.status, certificate ? 'another' : 'none').toBe(401)
      expect(answer.challenge).toMatch(/^Bearer error="invalid_token"/)
    }
  })

  it('ignores a Client-Cert header from a peer that is no trusted proxy', async () => {
    const answer = await send(app, { token: bound, headers: { 'client-cert': clientCertHeader(client) } })
    expect(answer.status).toBe(401)
    expect(answer.challenge).toMatch(/invalid_token/)
  })

  it('leaves tokens without the binding unaffected, with or without a certificate', async () => {
    expect((await send(app, { token: bearer, certificate: stranger })).status).toBe(200)
    expect((await send(app, { token: bearer })).status).toBe(200)
  })
})

describe.each<Framework>(['node', 'express', 'fastify'])('%s behind a TLS-terminating proxy', (framework) => {
  let trusting: App
  let distrusting: App
  beforeAll(async () => {
    trusting = await startApp(framework, false, {
      trustedProxy: { addresses: ['127.0.0.0/8'], certificateHeader: 'Client-Cert' },
    })
    distrusting = await startApp(framework, false, {
      trustedProxy: { addresses: ['10.0.0.7'], certificateHeader: 'client-cert' },
    })
  })
  afterAll(() => Promise.all([trusting.close(), distrusting.close()]))

  it("accepts a bound token with its certificate in a trusted proxy's header", async () => {
    const answer = await send(trusting, {
      token: bound,
      headers: { 'client-cert': clientCertHeader(client) },
    })
    expect(answer.status).toBe(200)
  })

  it('refuses another certificate, none, or a header from an untrusted peer', async () => {
    const other = await send(trusting, {
      token: bound,
      headers: { 'client-cert': clientCertHeader(stranger) },
    })
    expect(other.status).toBe(401)
    expect(other.challenge).toMatch(/invalid_token/)
    expect((await send(trusting, { token: bound })).status).toBe(401)
    const untrusted = await send(distrusting, {
      token: bound,
      headers: { 'client-cert': clientCertHeader(client) },
    })
    expect(untrusted.status).toBe(401)
    expect(untrusted.challenge).toMatch(/invalid_token/)
  })

  it('refuses malformed header values cleanly (401, never 500)', async () => {
    for (const value of malformedValues()) {
      const answer = await send(trusting, { token: bound, headers: { 'client-cert': value } })
      expect(answer.status, value.slice(0, 20)).toBe(401)
      expect(answer.challenge).toMatch(/invalid_token/)
    }
  })
})

/** Values that hold no certificate: not a byte sequence, bad base64, not a certificate, two joined. */
function malformedValues(): string[] {
  const der = Buffer.from(client.certificate.rawData)
  return [
    der.toString('base64'),
    `:${der.toString('base64url')}:`,
    `:${der.toString('base64').slice(0, 10)}*${der.toString('base64').slice(10)}:`,
    `:${Buffer.from('not a certificate').toString('base64')}:`,
    `${clientCertHeader(client)}, ${clientCertHeader(client)}`,
    client.pem.replace(/\n/g, ' '),
  ]
}

describe('fetch and Hono behind a TLS-terminating proxy', () => {
  const trustedProxy = { addresses: ['10.0.0.7'], certificateHeader: 'client-cert' }

  function request(token: string, header?: string): Request {
    return new Request('https://api.test.example/things', {
      headers: {
        authorization: `Bearer ${token}`,
        ...(header === undefined ? {} : { 'client-cert': header }),
      },
    })
  }

  it('fetch: believes the header only with a remoteAddress of a trusted proxy', async () => {
    const auth = fetchBearerAuth({ verifier, trustedProxy })
    const ok = await auth(request(bound, clientCertHeader(client)), { remoteAddress: '10.0.0.7' })
    expect(ok).not.toBeInstanceOf(Response)
    expect(ok).toMatchObject({ clientId: 'service-a', confirmation: { 'x5t#S256': expect.any(String) } })
    for (const [name, outcome] of [
      ['no remoteAddress', auth(request(bound, clientCertHeader(client)))],
      [
        'an untrusted remoteAddress',
        auth(request(bound, clientCertHeader(client)), { remoteAddress: '10.0.0.8' }),
      ],
      [
        'another certificate',
        auth(request(bound, clientCertHeader(stranger)), { remoteAddress: '10.0.0.7' }),
      ],
      ['no header', auth(request(bound), { remoteAddress: '10.0.0.7' })],
      ...malformedValues().map(
        (value) => [value.slice(0, 20), auth(request(bound, value), { remoteAddress: '10.0.0.7' })] as const,
      ),
    ] as const) {
      const answer = await outcome
      expect(answer, name).toBeInstanceOf(Response)
      expect((answer as Response).status, name).toBe(401)
      expect((answer as Response).headers.get('www-authenticate'), name).toMatch(/invalid_token/)
    }
    // Without trustedProxy the header is never read, whatever remoteAddress says.
    const open = fetchBearerAuth({ verifier })
    expect(
      await open(request(bound, clientCertHeader(client)), { remoteAddress: '10.0.0.7' }),
    ).toBeInstanceOf(Response)
    // A certificate the host read from its own TLS connection.
    const own = await open(request(bound), { clientCertificate: new X509Certificate(client.pem) })
    expect(own).toMatchObject({ clientId: 'service-a' })
    expect(await open(request(bearer))).toMatchObject({ clientId: 'service-a' })
  })

  it('Hono: believes the header only when connection() names a trusted proxy', async () => {
    let remoteAddress: string | undefined
    const app = new Hono<BearerAuthEnv>()
    app.use('*', honoBearerAuth({ verifier, trustedProxy, connection: () => ({ remoteAddress }) }))
    app.get('/things', (c) => c.json({ clientId: c.get('auth').clientId }))
    const call = (token: string, header?: string) => app.request(request(token, header))

    remoteAddress = '10.0.0.7'
    const ok = await call(bound, clientCertHeader(client))
    expect(ok.status).toBe(200)
    expect(await ok.json()).toEqual({ clientId: 'service-a' })
    expect((await call(bound, clientCertHeader(stranger))).status).toBe(401)
    expect((await call(bound)).status).toBe(401)
    for (const value of malformedValues()) {
      const answer = await call(bound, value)
      expect(answer.status, value.slice(0, 20)).toBe(401)
      expect(answer.headers.get('www-authenticate')).toMatch(/invalid_token/)
    }
    remoteAddress = '192.0.2.1'
    expect((await call(bound, clientCertHeader(client))).status).toBe(401)
    remoteAddress = undefined
    expect((await call(bound, clientCertHeader(client))).status).toBe(401)
    expect((await call(bearer)).status).toBe(200)

    // Without connection(), the header is never believed.
    const plain = new Hono<BearerAuthEnv>()
    plain.use('*', honoBearerAuth({ verifier, trustedProxy }))
    plain.get('/things', (c) => c.json({ clientId: c.get('auth').clientId }))
    expect((await plain.request(request(bound, clientCertHeader(client)))).status).toBe(401)
  })
})

describe('configuration', () => {
  it.each([
    [{ addresses: [], certificateHeader: 'client-cert' }, /addresses must be a non-empty array/],
    [{ addresses: ['not-an-ip'], certificateHeader: 'client-cert' }, /must be an IP address or a CIDR block/],
    [{ addresses: ['10.0.0.0/33'], certificateHeader: 'client-cert' }, /invalid prefix length/],
    [{ addresses: ['10.0.0.7'] }, /certificateHeader must be an HTTP header name/],
    [
      { addresses: ['10.0.0.7'], certificateHeader: 'client cert' },
      /certificateHeader must be an HTTP header name/,
    ],
  ])('refuses trustedProxy %j', (trustedProxy, message) => {
    expect(() => fetchBearerAuth({ verifier, trustedProxy: trustedProxy as never })).toThrow(message)
  })
})

// A self-signed certificate is as good as any other for the binding: the verifier checks the
// thumbprint, not the chain (the authorization server judged the certificate when it bound it).
describe('self-signed certificates', () => {
  it('binds to the thumbprint, whatever issued the certificate', async () => {
    const self = await selfSignedCertificate('ES256', 'CN=self')
    const x5t = Buffer.from(await self.certificate.getThumbprint('SHA-256')).toString('base64url')
    const token = await mintToken(signer, accessTokenClaims({ cnf: { 'x5t#S256': x5t } }))
    const auth = fetchBearerAuth({ verifier })
    const r = new Request('https://api.test.example/things', {
      headers: { authorization: `Bearer ${token}` },
    })
    expect(await auth(r, { clientCertificate: new X509Certificate(self.pem) })).toMatchObject({
      clientId: 'service-a',
    })
  })
})
