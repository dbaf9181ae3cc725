/**
 * Rotating a client secret without downtime:
 *   1. the authorization server accepts the old secret;
 *   2. the operator registers the new secret NEXT TO the old one — both are accepted;
 *   3. the service's secret source changes, and its next token request sends the new secret;
 *   4. the operator retires the old secret; anything still using it gets `invalid_client`.
 * The client reads its secret from a function on every token request, so step 3 needs no
 * restart of the service.
 *
 * Run: pnpm --filter @oauth-m2m/example-secret-rotation start
 * It reconfigures the authorization server, so it always starts the local reference server.
 */
import { pathToFileURL } from 'node:url'
import { clientSecretBasic, createTokenClient, OAuthResponseError, type TokenClient } from '@oauth-m2m/client'
import { startAuthorizationServer } from './local-setup.js'

/** One step of the rotation and how the token request went: `ok` or the server's `error`. */
export interface Step {
  step: string
  result: string
}

const OLD_SECRET = 'secret-2025-old'
const NEW_SECRET = 'secret-2026-new'

/** A token request made now (not served from the cache), reduced to `ok` or the server's error code. */
async function requestToken(client: TokenClient): Promise<string> {
  // Only to make the example request a token at each step: in a service, the next scheduled
  // refresh picks up the new secret by itself.
  client.invalidate()
  try {
    await client.getToken()
    return 'ok'
  } catch (error) {
    if (error instanceof OAuthResponseError) return error.error
    throw error
  }
}

export async function main(log: (line: string) => void = () => {}): Promise<Step[]> {
  const clientId = 'payments-service'
  const server = await startAuthorizationServer([{ client_id: clientId, client_secret: OLD_SECRET }])

  // In a service this reads a mounted secret file or a secret manager (cached briefly); here the
  // "secret store" is a variable the rotation below changes.
  let secretInStore = OLD_SECRET
  const client = createTokenClient({
    issuer: server.issuer,
    clientId,
    auth: clientSecretBasic(() => secretInStore),
  })
  // A forgotten instance that was configured with the old secret as a plain string.
  const stale = createTokenClient({ issuer: server.issuer, clientId, auth: clientSecretBasic(OLD_SECRET) })

  const steps: Step[] = []
  const record = async (step: string, who: TokenClient) => {
    const result = await requestToken(who)
    steps.push({ step, result })
    log(`${step}: ${result}`)
  }

  try {
    await record('1. server has the old secret; service sends the old one', client)

    await server.reconfigure([{ client_id: clientId, client_secrets: [OLD_SECRET, NEW_SECRET] }])
    await record('2. server has both secrets; service still sends the old one', client)

    secretInStore = NEW_SECRET
    await record('3. secret store updated; service sends the new one', client)
    await record('3. an instance not yet updated sends the old one', stale)

    await server.reconfigure([{ client_id: clientId, client_secret: NEW_SECRET }])
    await record('4. old secret retired; service sends the new one', client)
    await record('4. old secret retired; a stale instance sends the old one', stale)
    return steps
  } finally {
    await Promise.all([client.close(), stale.close()])
    await server.close()
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(console.log).catch((error: unknown) => {
    console.error(error)
    process.exitCode = 1
  })
}
