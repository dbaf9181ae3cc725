/**
 * DPoP (RFC 9449): the client binds its tokens to a key pair it holds, and proves it holds the key
 * on every request. A token that leaks (a log line, a proxy, a heap dump) is useless on its own.
 *
 * Run: pnpm --filter @oauth-m2m/example-dpop start
 * Against your own servers: ISSUER, CLIENT_ID, CLIENT_SECRET, API_URL (the token's resource).
 */
import { pathToFileURL } from 'node:url'
import { clientSecretBasic, createTokenClient } from '@oauth-m2m/client'
import { connect } from './local-setup.js'

/** What the run observed. */
export interface Outcome {
  /** Status of each call the client made to the API. */
  apiStatuses: number[]
  /** The client id the API saw. */
  caller: string | undefined
  /** `token_type` of the token the client got: `DPoP` when bound. */
  tokenType: string
  /** Whether the token names a key (`cnf.jkt`, the key's RFC 7638 thumbprint). */
  boundToKey: boolean
  /** Status of the API for the same token sent by someone without the key: as Bearer, and as DPoP without a proof. */
  stolenTokenStatuses: number[]
}

/** The claims of a JWT, read without checking it (the API checks it). */
function claimsOf(jwt: string): Record<string, unknown> {
  const payload = jwt.split('.')[1]
  return payload === undefined ? {} : JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'))
}

export async function main(log: (line: string) => void = () => {}): Promise<Outcome> {
  const { issuer, clientId, clientSecret, apiUrl, close } = await connect()

  // `dpop: true`: the client makes a non-extractable ES256 key pair at start, sends a proof with
  // every token request and every request of `client.fetch`, and follows the servers' nonces.
  // A fleet process that must keep its key across restarts passes it: `dpop: { key }`.
  const client = createTokenClient({
    issuer,
    clientId,
    auth: clientSecretBasic(clientSecret),
    scope: 'payments:write',
    resource: apiUrl,
    dpop: true,
  })

  try {
    const apiStatuses: number[] = []
    let caller: string | undefined
    for (let call = 1; call <= 2; call++) {
      // Authorization: DPoP <token>, plus a DPoP header: a proof made for this method and URL.
      const response = await client.fetch(`${apiUrl}/payments`)
      caller = ((await response.json()) as { caller?: string }).caller
      apiStatuses.push(response.status)
      log(`call ${call}: GET ${apiUrl}/payments -> ${response.status} (the API saw ${caller})`)
    }

    const token = await client.getToken()
    const cnf = claimsOf(token.accessToken).cnf as { jkt?: string } | undefined
    log(`token_type ${token.tokenType}, bound to key thumbprint ${cnf?.jkt ?? '(none)'}`)

    // Someone who copied the token, but not the key, tries it.
    const stolenTokenStatuses: number[] = []
    for (const scheme of ['Bearer', 'DPoP']) {
      const response = await fetch(`${apiUrl}/payments`, {
        headers: { authorization: `${scheme} ${token.accessToken}` },
      })
      await response.arrayBuffer()
      stolenTokenStatuses.push(response.status)
      log(`the token without its key, as ${scheme}: ${response.status}`)
    }

    return {
      apiStatuses,
      caller,
      tokenType: token.tokenType,
      boundToKey: typeof cnf?.jkt === 'string',
      stolenTokenStatuses,
    }
  } finally {
    await client.close()
    await close()
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(console.log).catch((error: unknown) => {
    console.error(error)
    process.exitCode = 1
  })
}
