/**
 * Mutual TLS (RFC 8705): the client proves who it is with a certificate instead of a shared
 * secret, and its tokens are bound to that certificate. A token that leaks (a log line, a proxy,
 * a heap dump) is useless without the certificate's private key.
 *
 * Run: pnpm --filter @oauth-m2m/example-mtls start
 * Against your own servers: ISSUER, CLIENT_ID, CLIENT_CERT, CLIENT_KEY (files), CA_FILE (optional),
 * API_URL (the token's resource).
 */
import { createHash, X509Certificate } from 'node:crypto'
import { pathToFileURL } from 'node:url'
import { createTokenClient, tlsClientAuth } from '@oauth-m2m/client'
import { Agent, request } from 'undici'
import { connect } from './local-setup.js'

/** What the run observed. */
export interface Outcome {
  /** Status of each call the client made to the API. */
  apiStatuses: number[]
  /** The client id the API saw. */
  caller: string | undefined
  /** Whether the token names the client's certificate (`cnf["x5t#S256"]`, its SHA-256 thumbprint). */
  boundToCertificate: boolean
  /** Status of the API for the same token sent without the certificate. */
  stolenTokenStatuses: number[]
}

/** The claims of a JWT, read without checking it (the API checks it). */
function claimsOf(jwt: string): Record<string, unknown> {
  const payload = jwt.split('.')[1]
  return payload === undefined ? {} : JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'))
}

export async function main(log: (line: string) => void = () => {}): Promise<Outcome> {
  const { issuer, clientId, cert, key, ca, apiUrl, close } = await connect()

  // tls_client_auth: no secret. The certificate goes in the TLS handshake of every token request
  // (through an undici Agent the strategy makes), and `client.fetch` presents it to the API too.
  const client = createTokenClient({
    issuer,
    clientId,
    auth: tlsClientAuth({ cert, key, ...(ca ? { ca } : {}) }),
    scope: 'orders:read',
    resource: apiUrl,
  })

  const thieves: Agent[] = []
  try {
    const apiStatuses: number[] = []
    let caller: string | undefined
    for (let call = 1; call <= 2; call++) {
      const response = await client.fetch(`${apiUrl}/orders`)
      caller = ((await response.json()) as { caller?: string }).caller
      apiStatuses.push(response.status)
      log(`call ${call}: GET ${apiUrl}/orders -> ${response.status} (the API saw ${caller})`)
    }

    const token = await client.getToken()
    const cnf = claimsOf(token.accessToken).cnf as Record<string, string> | undefined
    const thumbprint = createHash('sha256').update(new X509Certificate(cert).raw).digest('base64url')
    const boundToCertificate = cnf?.['x5t#S256'] === thumbprint
    log(`token bound to certificate thumbprint ${cnf?.['x5t#S256'] ?? '(none)'}`)

    // Someone who copied the token, but not the certificate's key, tries it.
    const stolenTokenStatuses: number[] = []
    const withoutCertificate = new Agent({ connect: { ...(ca ? { ca } : {}) } })
    thieves.push(withoutCertificate)
    const response = await request(`${apiUrl}/orders`, {
      headers: { authorization: `Bearer ${token.accessToken}` },
      dispatcher: withoutCertificate,
    })
    await response.body.dump()
    stolenTokenStatuses.push(response.statusCode)
    log(`the token without the certificate: ${response.statusCode}`)

    return { apiStatuses, caller, boundToCertificate, stolenTokenStatuses }
  } finally {
    await client.close()
    await Promise.all(thieves.map((agent) => agent.close()))
    await close()
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(console.log).catch((error: unknown) => {
    console.error(error)
    process.exitCode = 1
  })
}
