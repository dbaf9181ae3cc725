/**
 * Service-to-service calls with `client.fetch`: a token is requested once, cached, and attached
 * only to requests for the API it was issued for.
 *
 * Run: pnpm --filter @oauth-m2m/example-service-to-service start
 * Against your own servers: ISSUER, CLIENT_ID, CLIENT_SECRET, API_URL (the token's resource).
 */
import diagnostics_channel from 'node:diagnostics_channel'
import { pathToFileURL } from 'node:url'
import { CLIENT_CHANNELS, clientSecretBasic, createTokenClient } from '@oauth-m2m/client'
import { connect } from './local-setup.js'

/** What the run observed. */
export interface Outcome {
  /** Status of each call to the API. */
  apiStatuses: number[]
  /** The client id the API saw in the token. */
  caller: string | undefined
  /** Token requests made for all those calls. */
  tokenRequests: number
  /** Whether the third-party service received an Authorization header. */
  thirdPartySawToken: boolean
}

export async function main(log: (line: string) => void = () => {}): Promise<Outcome> {
  const { issuer, clientId, clientSecret, apiUrl, thirdPartyUrl, close } = await connect()

  // Count token requests through the client's diagnostics channel, as a metrics exporter would.
  let tokenRequests = 0
  const onTokenFetched = () => {
    tokenRequests++
  }
  diagnostics_channel.subscribe(CLIENT_CHANNELS.fetchEnd, onTokenFetched)

  // One client per process: it owns the token cache. `resource` both asks the authorization
  // server for a token meant for this API (RFC 8707) and names the one origin it may be sent to.
  const client = createTokenClient({
    issuer,
    clientId,
    auth: clientSecretBasic(clientSecret),
    scope: 'inventory:read',
    resource: apiUrl,
  })

  try {
    const apiStatuses: number[] = []
    let caller: string | undefined
    for (let call = 1; call <= 3; call++) {
      const response = await client.fetch(apiUrl)
      const body = (await response.json()) as { caller?: string }
      apiStatuses.push(response.status)
      caller = body.caller
      log(`call ${call}: GET ${apiUrl} -> ${response.status} (the API saw ${caller})`)
    }

    // Another origin: client.fetch sends the request untouched, so the token cannot leak there.
    const thirdParty = (await (await client.fetch(thirdPartyUrl)).json()) as { sawAuthorization: boolean }
    log(`third-party service received a token: ${thirdParty.sawAuthorization}`)
    log(`token requests for ${apiStatuses.length} API calls: ${tokenRequests}`)

    return { apiStatuses, caller, tokenRequests, thirdPartySawToken: thirdParty.sawAuthorization }
  } finally {
    diagnostics_channel.unsubscribe(CLIENT_CHANNELS.fetchEnd, onTokenFetched)
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
