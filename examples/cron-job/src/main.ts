/**
 * A scheduled job (cron, a Kubernetes CronJob, a CI step): get one token, make the call, exit.
 * Nothing is left running — the client never keeps the process alive, and `close()` releases it
 * at once — so the process ends by itself with the job's exit code.
 *
 * Run: pnpm --filter @oauth-m2m/example-cron-job start
 * Against your own servers: ISSUER, CLIENT_ID, CLIENT_SECRET, API_URL (the token's resource).
 */
import diagnostics_channel from 'node:diagnostics_channel'
import { pathToFileURL } from 'node:url'
import { CLIENT_CHANNELS, clientSecretBasic, createTokenClient } from '@oauth-m2m/client'
import { connect } from './local-setup.js'

/** What the run observed. */
export interface Outcome {
  /** Status of the one API call. */
  status: number
  /** The scope the token was granted. */
  scope: string | undefined
  /** Token requests made by the job. */
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
    scope: 'reports:write',
    resource: apiUrl,
  })

  try {
    // Asking first makes a bad secret or scope fail the job before any work is done.
    const token = await client.getToken()
    log(`got a token for scope "${token.scope}", valid until ${new Date(token.expiresAt).toISOString()}`)

    // client.fetch reuses that token from the cache: the job makes one token request in all.
    const response = await client.fetch(apiUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ report: 'nightly-stock', rows: 42 }),
    })
    await response.arrayBuffer()
    log(`POST ${apiUrl} -> ${response.status}`)
    log(`token requests: ${tokenRequests}`)
    return { status: response.status, scope: token.scope, tokenRequests }
  } finally {
    diagnostics_channel.unsubscribe(CLIENT_CHANNELS.fetchEnd, onTokenFetched)
    // Cancels anything still in flight and empties the cache; later calls would reject.
    await client.close()
    await close()
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  // No process.exit(): a job that only ends when forced is hiding an open handle.
  main(console.log).then(
    ({ status }) => {
      if (status >= 300) process.exitCode = 1
    },
    (error: unknown) => {
      console.error(error)
      process.exitCode = 1
    },
  )
}
