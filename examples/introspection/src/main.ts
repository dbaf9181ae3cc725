/**
 * An API that accepts OPAQUE access tokens: it cannot check them itself, so the verifier asks the
 * authorization server (RFC 7662 introspection), authenticating as the API, and caches the
 * answer briefly. The code of the API does not change: `req.auth` is the same Principal.
 *
 * Run: pnpm --filter @oauth-m2m/example-introspection start
 * Against your own authorization server: ISSUER, AUDIENCE, API_CLIENT_ID, API_CLIENT_SECRET
 * (the API's credentials) and CLIENT_ID, CLIENT_SECRET (a caller allowed `billing:charge`).
 */
import diagnostics_channel from 'node:diagnostics_channel'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { pathToFileURL } from 'node:url'
import { clientSecretBasic, createTokenClient } from '@oauth-m2m/client'
import { createVerifier, INTROSPECTION_CHANNEL } from '@oauth-m2m/verifier'
import { type AuthenticatedRequest, bearerAuth } from '@oauth-m2m/verifier/node'
import { startAuthorizationServer } from './local-setup.js'

/** What the run observed. */
export interface Outcome {
  /** Whether the caller's token looked like a JWT (three dot-separated parts). */
  tokenIsJwt: boolean
  /** Status and body of each call with the caller's token. */
  withToken: { status: number; body: { caller?: string; scopes?: string[]; checkedBy?: string } }[]
  /** Introspection calls the API made for those calls. */
  introspections: number
  /** Status and challenge of a call with a token the server never issued. */
  withUnknownToken: { status: number; challenge: string | null }
}

export async function main(log: (line: string) => void = () => {}): Promise<Outcome> {
  const { issuer, audience, api, caller, close } = await startAuthorizationServer()

  // --- The billing API ---
  // The introspection endpoint comes from the issuer's metadata; the API authenticates to it
  // with its own client credentials. Answers are cached by a hash of the token, never past
  // its expiry, and at most `maxTtlMs`: the longest a revoked token can still be accepted.
  const verifier = createVerifier({
    issuer,
    audience,
    introspection: { clientId: api.clientId, auth: clientSecretBasic(api.clientSecret), maxTtlMs: 30_000 },
  })
  const auth = bearerAuth({ verifier, realm: 'billing', requiredScopes: ['billing:charge'] })
  const server = createServer((req, res) =>
    auth(req, res, () => {
      const { clientId, scopes, source } = (req as AuthenticatedRequest).auth
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ caller: clientId, scopes, checkedBy: source }))
    }),
  )
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

  // --- A service calling it ---
  // The audience is an identifier, not this URL, so `origins` says where the token may go.
  const client = createTokenClient({
    issuer,
    clientId: caller.clientId,
    auth: clientSecretBasic(caller.clientSecret),
    scope: 'billing:charge',
    resource: audience,
    origins: [apiUrl],
  })

  // Count the API's calls to the introspection endpoint, as a metrics exporter would.
  let introspections = 0
  const onIntrospection = () => {
    introspections++
  }
  diagnostics_channel.subscribe(INTROSPECTION_CHANNEL, onIntrospection)
  try {
    const { accessToken } = await client.getToken()
    const tokenIsJwt = accessToken.split('.').length === 3
    log(`the caller's token is ${tokenIsJwt ? 'a JWT' : 'opaque'}`)

    const withToken: Outcome['withToken'] = []
    for (let call = 1; call <= 3; call++) {
      const response = await client.fetch(`${apiUrl}/charges`, { method: 'POST' })
      const body = (await response.json()) as Outcome['withToken'][number]['body']
      withToken.push({ status: response.status, body })
      log(
        `POST /charges -> ${response.status}: ${body.caller} with ${body.scopes}, checked by ${body.checkedBy}`,
      )
    }
    // The first call introspected the token; the next two were answered from the cache.
    const introspectionsForToken = introspections
    log(`introspection calls for ${withToken.length} requests: ${introspectionsForToken}`)

    const unknown = await fetch(`${apiUrl}/charges`, {
      method: 'POST',
      headers: { authorization: 'Bearer a-token-nobody-issued' },
    })
    await unknown.arrayBuffer()
    const challenge = unknown.headers.get('www-authenticate')
    log(`POST /charges with a token nobody issued -> ${unknown.status} (${challenge})`)

    return {
      tokenIsJwt,
      withToken,
      introspections: introspectionsForToken,
      withUnknownToken: { status: unknown.status, challenge },
    }
  } finally {
    diagnostics_channel.unsubscribe(INTROSPECTION_CHANNEL, onIntrospection)
    await client.close()
    await new Promise<void>((resolve) => {
      server.close(() => resolve())
      server.closeIdleConnections()
    })
    await verifier.close()
    await close()
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(console.log).catch((error: unknown) => {
    console.error(error)
    process.exitCode = 1
  })
}
