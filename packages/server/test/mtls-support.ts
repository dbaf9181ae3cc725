/**
 * Mutual TLS in the server tests: the test PKI of core (made at test time with @peculiar/x509), a
 * server listening with TLS on 127.0.0.1:0, and POSTs over node:https that present a client
 * certificate (or none).
 */
import { createHash, createPublicKey } from 'node:crypto'
import { request } from 'node:https'
import type { AuthorizationServerConfig } from '@oauth-m2m/server'
import type { JWK } from 'jose'
import type { TestCertificate } from '../../core/test/support/certificates.js'
import { type Answer, FORM, type RunningServer, startServer } from './test-server.js'

export {
  issueCertificate,
  type TestCertificate,
  type TestPki,
  testPki,
} from '../../core/test/support/certificates.js'

/** Starts a server with a TLS listener using `server` (a certificate for 127.0.0.1); closed after the test. */
export function startTlsServer(
  config: AuthorizationServerConfig,
  server: TestCertificate,
): Promise<RunningServer> {
  return startServer(config, { tls: { key: server.keyPem, cert: server.pem } })
}

/** What a TLS request presents and trusts. */
export interface TlsRequestOptions {
  /** The CA of the server's certificate. */
  ca: string
  /** The client certificate to present; none when absent. */
  cert?: TestCertificate | undefined
  headers?: Record<string, string>
}

/** POSTs a form over HTTPS (a new connection each time), presenting `cert` when given. */
export function tlsPost(
  url: string,
  form: Record<string, string>,
  options: TlsRequestOptions,
): Promise<Answer> {
  const body = new URLSearchParams(form).toString()
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent: false,
        ca: options.ca,
        ...(options.cert ? { cert: options.cert.pem, key: options.cert.keyPem } : {}),
        headers: { 'content-type': FORM, 'content-length': Buffer.byteLength(body), ...options.headers },
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8')
          const headers = new Headers()
          for (const [name, value] of Object.entries(res.headers)) {
            if (typeof value === 'string') headers.set(name, value)
          }
          let json: unknown
          try {
            json = JSON.parse(text)
          } catch {
            json = undefined
          }
          resolve({ status: res.statusCode ?? 0, headers, json, text })
        })
        res.on('error', reject)
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}

/** The DER of a test certificate. */
export function der(certificate: TestCertificate): Buffer {
  return Buffer.from(certificate.certificate.rawData)
}

/** `x5t#S256` of a certificate, computed here from its DER (independently of the server). */
export function x5tS256(certificate: TestCertificate): string {
  return createHash('sha256').update(der(certificate)).digest('base64url')
}

/** A public JWK of the certificate's key with the certificate as `x5c` (self_signed_tls_client_auth). */
export function jwkWithX5c(certificate: TestCertificate): JWK {
  const jwk = createPublicKey(certificate.privateKey).export({ format: 'jwk' }) as JWK
  return { ...jwk, x5c: [der(certificate).toString('base64')] }
}

/** The RFC 9440 `Client-Cert` value of a certificate: `:base64 DER:`. */
export function clientCertHeader(certificate: TestCertificate): string {
  return `:${der(certificate).toString('base64')}:`
}
