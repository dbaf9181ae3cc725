/**
 * Rotating a client secret without downtime — and without restarting anything:
 *   1. the authorization server accepts the old secret;
 *   2. the operator registers the new secret NEXT TO the old one — both are accepted;
 *   3. the service's secret source changes, and its next token request sends the new secret;
 *   4. once the service's requests carry the new secret, the operator retires the old one;
 *      anything still using it gets `invalid_client`.
 * The client reads its secret from a function on every token request, so step 3 needs no restart
 * of the service; the server applies steps 2 and 4 to the next request, so they need no restart
 * of the server. Meanwhile other instances of the service keep requesting tokens, and none of
 * those requests fails.
 *
 * Run: pnpm --filter @oauth-m2m/example-secret-rotation start
 * It plays the operator too, so it always starts the local reference server.
 */
import { pathToFileURL } from 'node:url'
import { clientSecretBasic, createTokenClient, OAuthResponseError, type TokenClient } from '@oauth-m2m/client'
import { createAuthorizationServer } from '@oauth-m2m/server'

/** One step of the rotation and how the token request went: `ok` or the server's `error`. */
export interface Step {
  step: string
  result: string
}

/** Token requests the service's other instances made while the rotation went on. */
export interface Traffic {
  requests: number
  failures: number
}

/** What happened: each step, and the traffic around them. */
export interface Rotation {
  steps: Step[]
  traffic: Traffic
}

const OLD_SECRET = 'secret-2025-old'
const NEW_SECRET = 'secret-2026-new'
/** Upper bound of the background traffic, so that the example ends whatever the machine's speed. */
const MAX_BACKGROUND_REQUESTS = 1000

/** A token request made now (not served from the cache), reduced to `ok` or the server's error code. */
async function requestToken(client: TokenClient): Promise<string> {
  // Only to make the example request a token each time: in a service, the next scheduled
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

/**
 * Token requests one after the other until stopped. `movedToNewSecret` resolves once a request
 * that started after the secret store changed has succeeded: proof the traffic uses the new one.
 */
function keepRequesting(client: TokenClient, storeHasNewSecret: () => boolean) {
  let stopped = false
  const traffic: Traffic = { requests: 0, failures: 0 }
  let markMoved: () => void = () => {}
  const movedToNewSecret = new Promise<void>((resolve) => {
    markMoved = resolve
  })
  const running = (async () => {
    try {
      while (!stopped && traffic.requests < MAX_BACKGROUND_REQUESTS) {
        const afterSwitch = storeHasNewSecret()
        traffic.requests++
        const result = await requestToken(client).catch(() => 'error')
        if (result !== 'ok') traffic.failures++
        else if (afterSwitch) markMoved()
      }
    } finally {
      markMoved() // never leave the rotation waiting once the traffic has ended
    }
  })()
  return {
    movedToNewSecret,
    async stop(): Promise<Traffic> {
      stopped = true
      await running
      return traffic
    },
  }
}

export async function main(log: (line: string) => void = () => {}): Promise<Rotation> {
  const clientId = 'payments-service'
  const authorizationServer = await createAuthorizationServer({
    clients: [{ client_id: clientId, client_secret: OLD_SECRET }],
  })
  const { url: issuer, close } = await authorizationServer.listen({ port: 0, host: '127.0.0.1' })

  // In a service this reads a mounted secret file or a secret manager (cached briefly); here the
  // "secret store" is a variable the rotation below changes.
  let secretInStore = OLD_SECRET
  const service = () => createTokenClient({ issuer, clientId, auth: clientSecretBasic(() => secretInStore) })
  const client = service()
  const otherInstance = service()
  // A forgotten instance that was configured with the old secret as a plain string.
  const stale = createTokenClient({ issuer, clientId, auth: clientSecretBasic(OLD_SECRET) })

  const steps: Step[] = []
  const record = async (step: string, who: TokenClient) => {
    const result = await requestToken(who)
    steps.push({ step, result })
    log(`${step}: ${result}`)
  }

  const background = keepRequesting(otherInstance, () => secretInStore === NEW_SECRET)
  try {
    await record('1. server has the old secret; service sends the old one', client)

    authorizationServer.updateClient({ client_id: clientId, client_secrets: [OLD_SECRET, NEW_SECRET] })
    await record('2. server has both secrets; service still sends the old one', client)

    secretInStore = NEW_SECRET
    await record('3. secret store updated; service sends the new one', client)
    await record('3. an instance not yet updated sends the old one', stale)

    // Retire the old secret only once the service's traffic carries the new one (in production:
    // once the server's logs show no more use of the old secret).
    await background.movedToNewSecret
    authorizationServer.updateClient({ client_id: clientId, client_secret: NEW_SECRET })
    await record('4. old secret retired; service sends the new one', client)
    await record('4. old secret retired; a stale instance sends the old one', stale)

    const traffic = await background.stop()
    log(`meanwhile: ${traffic.requests} token requests from another instance, ${traffic.failures} failed`)
    return { steps, traffic }
  } finally {
    await background.stop()
    await Promise.all([client.close(), otherInstance.close(), stale.close()])
    await close()
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(console.log).catch((error: unknown) => {
    console.error(error)
    process.exitCode = 1
  })
}
