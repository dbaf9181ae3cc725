import { createCipheriv, generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto'
import { createServer, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import { rootCertificates, type TLSSocket } from 'node:tls'
import {
  type ClientAuthContext,
  ConfigurationError,
  selfSignedTlsClientAuth,
  type TlsClientAuthStrategy,
  tlsClientAuth,
} from '@oauth-m2m/core'
import { applyClientAuth, postAuthenticatedForm } from '@oauth-m2m/core/internal'
import { tlsClientDispatcher } from '@oauth-m2m/core/internal/tls'
import { Agent } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { issueCertificate, type TestCertificate, type TestPki, testPki } from './support/certificates.js'

const context: ClientAuthContext = {
  clientId: 'orders-service',
  endpoint: 'https://as.example/token',
  tokenEndpoint: 'https://as.example/token',
  issuer: 'https://as.example',
}

let pki: TestPki
let client: TestCertificate
let other: TestCertificate
let selfSigned: TestCertificate

beforeAll(async () => {
  pki = await testPki()
  ;[client, other, selfSigned] = await Promise.all([
    pki.client('CN=orders-service,O=Example', { dns: ['orders.example.test'] }),
    pki.client('CN=someone else', undefined, 'RS256'),
    issueCertificate({ subject: 'CN=orders-service self-signed', usage: 'client' }),
  ])
})

async function thumbprintOf(certificate: TestCertificate): Promise<string> {
  return Buffer.from(await certificate.certificate.getThumbprint('SHA-256')).toString('base64url')
}

/** The base64 body of a PEM key: what must never appear in an error. */
function keyBody(pem: string): string {
  return pem.split('\n').slice(1, 3).join('')
}

function everythingSaidBy(error: unknown): string {
  const parts: string[] = []
  let current: unknown = error
  while (current instanceof Error) {
    parts.push(current.message, JSON.stringify(current), String(current.stack))
    current = current.cause
  }
  return parts.join('\n')
}

describe('tlsClientAuth and selfSignedTlsClientAuth (RFC 8705 §2)', () => {
  it('send client_id in the body and nothing else: no header, no secret, no assertion', async () => {
    for (const strategy of [
      tlsClientAuth({ cert: client.pem, key: client.keyPem }),
      selfSignedTlsClientAuth({ cert: selfSigned.pem, key: selfSigned.privateKey }),
    ]) {
      const request = { headers: {}, body: new URLSearchParams({ grant_type: 'client_credentials' }) }
      const redactor = await applyClientAuth(strategy, request, context)
      expect(Object.fromEntries(request.body)).toEqual({
        grant_type: 'client_credentials',
        client_id: 'orders-service',
      })
      expect(request.headers).toEqual({})
      // client_id is public: nothing is scrubbed from answers.
      expect(redactor.redact('orders-service')).toBe('orders-service')
    }
    expect(tlsClientAuth({ cert: client.pem, key: client.keyPem }).method).toBe('tls_client_auth')
    expect(selfSignedTlsClientAuth({ cert: selfSigned.pem, key: selfSigned.keyPem }).method).toBe(
      'self_signed_tls_client_auth',
    )
  })

  it("knows the certificate's SHA-256 thumbprint, the x5t#S256 of a bound token", async () => {
    const strategy = tlsClientAuth({ cert: client.pem, key: client.keyPem })
    expect(strategy.tls.thumbprint).toBe(await thumbprintOf(client))
    expect(strategy.tls.thumbprint).toMatch(/^[A-Za-z0-9_-]{43}$/)
  })

  it('reads the certificate as PEM text, PEM bytes or DER, and the key as PEM, DER or KeyObject', async () => {
    const der = Buffer.from(client.certificate.rawData)
    const keys = [
      client.keyPem,
      Buffer.from(client.keyPem),
      client.privateKey.export({ type: 'pkcs8', format: 'der' }),
      client.privateKey.export({ type: 'sec1', format: 'der' }),
      client.privateKey.export({ type: 'sec1', format: 'pem' }),
      client.privateKey,
    ]
    const expected = await thumbprintOf(client)
    for (const cert of [client.pem, Buffer.from(client.pem), der, new Uint8Array(der)]) {
      for (const key of keys) {
        const strategy = tlsClientAuth({ cert, key })
        expect(strategy.tls.thumbprint).toBe(expected)
        const options = strategy.tls.connectOptions()
        expect(options.cert.match(/BEGIN CERTIFICATE/g)).toHaveLength(1)
        expect(new X509Certificate(options.cert).raw.equals(der)).toBe(true)
        expect(options.key).toMatch(/^-----BEGIN PRIVATE KEY-----\n/)
        expect(options).not.toHaveProperty('ca')
      }
    }
  })

  it('reads an RSA key in PKCS#1 too, PEM or DER', async () => {
    for (const key of [
      other.privateKey.export({ type: 'pkcs1', format: 'der' }),
      other.privateKey.export({ type: 'pkcs1', format: 'pem' }),
    ]) {
      expect(tlsClientAuth({ cert: other.pem, key }).tls.thumbprint).toBe(await thumbprintOf(other))
    }
  })

  it('sends a chain, leaf first, and names the leaf by its thumbprint', async () => {
    const chain = `${client.pem}\n${pki.ca.pem}`
    const strategy = tlsClientAuth({ cert: chain, key: client.keyPem })
    expect(strategy.tls.thumbprint).toBe(await thumbprintOf(client))
    expect(strategy.tls.connectOptions().cert.match(/BEGIN CERTIFICATE/g)).toHaveLength(2)
  })

  it('adds ca to the default roots instead of replacing them, and hands out a new object each time', () => {
    const strategy = tlsClientAuth({ cert: client.pem, key: client.keyPem, ca: pki.ca.pem })
    const first = strategy.tls.connectOptions()
    expect(first.ca).toHaveLength(rootCertificates.length + 1)
    expect(first.ca?.slice(0, rootCertificates.length)).toEqual([...rootCertificates])
    first.ca?.push('tampered')
    expect(strategy.tls.connectOptions().ca).toHaveLength(rootCertificates.length + 1)
    const der = tlsClientAuth({
      cert: client.pem,
      key: client.keyPem,
      ca: [Buffer.from(pki.ca.certificate.rawData), pki.ca.pem],
    })
    expect(der.tls.connectOptions().ca).toHaveLength(rootCertificates.length + 2)
  })

  it('refuses, at creation, what is not a certificate or a private key, with a typed error', () => {
    const refusals: [unknown, RegExp][] = [
      [{ cert: 'not a certificate', key: client.keyPem }, /cert must be an X.509 certificate/],
      [{ cert: Buffer.from('garbage'), key: client.keyPem }, /neither PEM nor a DER X.509 certificate/],
      [
        { cert: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----', key: client.keyPem },
        /certificate 1 of cert/,
      ],
      [{ cert: 42, key: client.keyPem }, /cert must be an X.509 certificate/],
      [{ cert: client.pem, key: 'not a key' }, /key is not a private key/],
      [{ cert: client.pem, key: Buffer.from('garbage') }, /key is not a private key/],
      [{ cert: client.pem, key: client.certificate.publicKey }, /key must be a private key/],
      [{ cert: client.pem, key: generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey }, /public key/],
      [{ cert: client.pem, key: other.keyPem }, /not the private key of the certificate/],
      [{ cert: client.pem, key: client.keyPem, ca: [] }, /ca must hold at least one/],
      [{ cert: client.pem, key: client.keyPem, ca: 'nope' }, /ca must be an X.509 certificate/],
      [null, /options must be an object/],
    ]
    for (const [options, message] of refusals) {
      let thrown: unknown
      try {
        tlsClientAuth(options as Parameters<typeof tlsClientAuth>[0])
      } catch (error) {
        thrown = error
      }
      expect(thrown, String(message)).toBeInstanceOf(ConfigurationError)
      expect((thrown as ConfigurationError).code).toBe('ERR_CONFIGURATION')
      expect((thrown as Error).message).toMatch(message)
    }
    expect(() => selfSignedTlsClientAuth({ cert: selfSigned.pem, key: client.keyPem })).toThrow(
      /selfSignedTlsClientAuth: key is not the private key/,
    )
  })

  it('asks for an encrypted key to be decrypted first', () => {
    const encrypted = client.privateKey.export({
      type: 'pkcs8',
      format: 'pem',
      cipher: 'aes-256-cbc',
      passphrase: 'correct horse',
    }) as string
    expect(() => tlsClientAuth({ cert: client.pem, key: encrypted })).toThrow(
      /the key is encrypted; decrypt it with createPrivateKey\(\{ key, passphrase \}\)/,
    )
  })

  it('never puts key material in an error, its cause or its JSON', () => {
    // A key that is almost right (its PEM body damaged) and one of another certificate.
    const damaged = client.keyPem.replace(/\n[A-Za-z0-9+/]{10}/, '\n!!!!!!!!!!')
    const cipherText = createCipheriv('aes-128-ecb', randomBytes(16), null).update(randomBytes(64))
    for (const key of [damaged, other.keyPem, Buffer.from(damaged), cipherText]) {
      let said = ''
      try {
        tlsClientAuth({ cert: client.pem, key })
      } catch (error) {
        said = everythingSaidBy(error)
      }
      expect(said).not.toBe('')
      for (const pem of [damaged, other.keyPem, client.keyPem]) expect(said).not.toContain(keyBody(pem))
      expect(said).not.toContain(cipherText.toString('base64').slice(0, 16))
    }
  })
})

/** An https server asking for client certificates, recording what each request presented. */
interface MtlsServer {
  url: string
  seen: {
    thumbprint: string | undefined
    authorized: boolean
    body: string
    authorization: string | undefined
  }[]
  handshakes: number
  close(): Promise<void>
}

async function startMtlsServer(serverPki: TestPki): Promise<MtlsServer> {
  const seen: MtlsServer['seen'] = []
  let handshakes = 0
  const server: Server = createServer(
    {
      key: serverPki.server.keyPem,
      cert: serverPki.server.pem,
      ca: [serverPki.ca.pem],
      requestCert: true,
      rejectUnauthorized: false,
    },
    (req, res) => {
      const socket = req.socket as TLSSocket
      const chunks: Buffer[] = []
      req.on('data', (chunk: Buffer) => chunks.push(chunk))
      req.on('end', () => {
        const peer = socket.getPeerX509Certificate()
        seen.push({
          thumbprint: peer
            ? Buffer.from(peer.fingerprint256.replace(/:/g, ''), 'hex').toString('base64url')
            : undefined,
          authorized: socket.authorized,
          body: Buffer.concat(chunks).toString(),
          authorization: req.headers.authorization,
        })
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}')
      })
    },
  )
  server.on('secureConnection', () => {
    handshakes++
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}/token`,
    seen,
    get handshakes() {
      return handshakes
    },
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

describe('the authenticated form POST with a mutual-TLS strategy', () => {
  let as: MtlsServer
  beforeAll(async () => {
    as = await startMtlsServer(pki)
  })
  afterAll(() => as.close())

  const post = (auth: TlsClientAuthStrategy, dispatcher?: Agent) =>
    postAuthenticatedForm(as.url, new URLSearchParams({ grant_type: 'client_credentials' }), {
      auth,
      context: { ...context, endpoint: as.url, tokenEndpoint: as.url },
      ...(dispatcher ? { dispatcher } : {}),
    })

  it('presents the certificate in the handshake, reusing connections across requests', async () => {
    const auth = tlsClientAuth({ cert: client.pem, key: client.keyPem, ca: pki.ca.pem })
    const before = as.seen.length
    const handshakesBefore = as.handshakes
    for (let i = 0; i < 4; i++) expect((await post(auth)).status).toBe(200)
    const seen = as.seen.slice(before)
    expect(seen[0]).toEqual({
      thumbprint: auth.tls.thumbprint,
      authorized: true,
      body: 'grant_type=client_credentials&client_id=orders-service',
      authorization: undefined,
    })
    expect(seen.map((s) => s.thumbprint)).toEqual(Array(4).fill(auth.tls.thumbprint))
    // One Agent per certificate: requests reuse its TLS connections rather than one handshake each.
    expect(as.handshakes - handshakesBefore).toBeLessThan(4)
    expect(tlsClientDispatcher(auth.tls)).toBe(tlsClientDispatcher(auth.tls))
  })

  it('presents a self-signed certificate the same way (the server, not the CA, vouches for it)', async () => {
    const auth = selfSignedTlsClientAuth({ cert: selfSigned.pem, key: selfSigned.keyPem, ca: pki.ca.pem })
    const before = as.seen.length
    expect((await post(auth)).status).toBe(200)
    expect(as.seen[before]).toMatchObject({ thumbprint: await thumbprintOf(selfSigned), authorized: false })
  })

  it("sends through the caller's dispatcher when given one: presenting a certificate is then its job", async () => {
    const auth = tlsClientAuth({ cert: client.pem, key: client.keyPem, ca: pki.ca.pem })
    const plain = new Agent({ connect: { ca: [pki.ca.pem] } })
    const carrying = new Agent({ connect: auth.tls.connectOptions() })
    try {
      const before = as.seen.length
      expect((await post(auth, plain)).status).toBe(200)
      expect((await post(auth, carrying)).status).toBe(200)
      expect(as.seen.slice(before).map((s) => s.thumbprint)).toEqual([undefined, auth.tls.thumbprint])
    } finally {
      await Promise.all([plain.close(), carrying.close()])
    }
  })

  it('fails as a network error when the server is not trusted: ca is needed for a private CA', async () => {
    const auth = tlsClientAuth({ cert: client.pem, key: client.keyPem })
    await expect(post(auth)).rejects.toMatchObject({ code: 'ERR_NETWORK' })
  })
})
