/**
 * Tokens for any undici-based code: compose the client's interceptor onto an undici Agent, and
 * every request through that dispatcher — `request`, `fetch`, or a library that accepts a
 * `dispatcher` — carries a cached token for the API's origin.
 *
 * Run: pnpm --filter @oauth-m2m/example-undici-interceptor start
 * Against your own servers: ISSUER, CLIENT_ID, CLIENT_SECRET, API_URL (the token's resource).
 */
import diagnostics_channel from 'node:diagnostics_channel'
import { pathToFileURL } from 'node:url'
import { CLIENT_CHANNELS, clientSecretBasic, createTokenClient } from '@oauth-m2m/client'
import { Agent, fetch, request } from 'undici'
import { connect } from './local-setup.js'

/** What the run observed. */
export interface Outcome {
  /** Status of a plain undici request, without the interceptor. */
  withoutInterceptor: number
  /** Status of `undici.request` through the composed agent. */
  request: number
  /** Status of `undici.fetch` through the composed agent. */
  fetch: number
  /** The client id the API saw in the token. */
  caller: string | undefined
  /** Token requests made for both calls. */
  tokenRequests: number
}

export async function main(log: (line: string) => void = () => {}): Promise<Outcome> {
  const { issuer, clientId, clientSecret, apiUrl, close } = await connect()

  let tokenRequests = 0
  const onTokenFetched = () => {
    tokenRequests++
  }
  diagnostics_channel.subscribe(CLIENT_CHANNELS.fetchEnd, onTokenFetched)

  const client = createTokenClient({
    issuer,
    clientId,
    auth: clientSecretBasic(clientSecret),
    scope: 'inventory:read',
    resource: apiUrl, // the token's audience, and the only origin the interceptor adds it to
  })
  // Compose once and reuse: the Agent holds the connection pool, the client the token cache.
  const agent = new Agent()
  const dispatcher = agent.compose(client.interceptor())

  try {
    const bare = await request(apiUrl)
    await bare.body.dump()
    log(`undici.request without the interceptor -> ${bare.statusCode}`)

    const viaRequest = await request(apiUrl, { dispatcher })
    const { caller } = (await viaRequest.body.json()) as { caller?: string }
    log(`undici.request through the agent -> ${viaRequest.statusCode} (the API saw ${caller})`)

    const viaFetch = await fetch(apiUrl, { dispatcher })
    await viaFetch.arrayBuffer()
    log(`undici.fetch through the agent -> ${viaFetch.status}`)
    log(`token requests: ${tokenRequests}`)

    return {
      withoutInterceptor: bare.statusCode,
      request: viaRequest.statusCode,
      fetch: viaFetch.status,
      caller,
      tokenRequests,
    }
  } finally {
    diagnostics_channel.unsubscribe(CLIENT_CHANNELS.fetchEnd, onTokenFetched)
    await agent.close()
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
