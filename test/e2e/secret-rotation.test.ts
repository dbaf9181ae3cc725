/**
 * Client secret rotation without downtime, on a server that keeps running: while a few instances
 * of a service keep calling a protected API — each call with a token requested just before over
 * real HTTP — the operator adds the new secret next to the old one (`updateClient`), the
 * instances' secret function switches to the new one, and the old secret is retired with another
 * `updateClient`. No call fails at any point; afterwards the old secret gets `invalid_client`.
 */
import { createTokenClient, OAuthResponseError, type TokenClient } from '@oauth-m2m/client'
import { clientSecretBasic, type SecretSource } from '@oauth-m2m/core'
import { type StartedAuthorizationServer, startAuthorizationServer } from '@oauth-m2m/testing'
import { createVerifier } from '@oauth-m2m/verifier'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { type AppUnderTest, MIDDLEWARE_APPS } from './support/protected-apps.js'

const API = 'https://inventory.example.test'
const OLD_SECRET = 'old-secret-4d1f0c'
const NEW_SECRET = 'new-secret-9b27e3'
const INSTANCES = 4
/** Upper bound of the calls the instances make, so that the test ends whatever happens. */
const MAX_CALLS = 2000

type Phase = 'old secret only' | 'both secrets' | 'secret switched' | 'old secret retired'

interface Call {
  instance: number
  /** The phase when the call began (the secret is read after that, when the token is requested). */
  phase: Phase
  status: number | string
}

let as: StartedAuthorizationServer
let app: AppUnderTest
let verifier: ReturnType<typeof createVerifier>
const clients: TokenClient[] = []

function clientWith(secret: SecretSource): TokenClient {
  const client = createTokenClient({
    issuer: as.issuer,
    clientId: 'svc',
    auth: clientSecretBasic(secret),
    resource: API,
    origins: [app.url],
  })
  clients.push(client)
  return client
}

/**
 * Calls through `client.fetch` from each instance, one after the other per instance, each with a
 * token requested for it. `until(condition)` resolves once a finished call makes the condition
 * true, and rejects if the calls run out first.
 */
function keepCalling(instances: TokenClient[], phase: () => Phase) {
  const calls: Call[] = []
  let stopped = false
  let started = 0
  const waiting = new Set<{ condition: () => boolean; resolve: () => void; reject: (e: Error) => void }>()
  const settle = (ended: boolean) => {
    for (const waiter of waiting) {
      if (waiter.condition()) waiter.resolve()
      else if (ended)
        waiter.reject(new Error(`the calls ran out (${calls.length}) before the condition held`))
      else continue
      waiting.delete(waiter)
    }
  }
  const run = async (client: TokenClient, instance: number) => {
    while (!stopped && started < MAX_CALLS) {
      started++
      const call: Call = { instance, phase: phase(), status: 'pending' }
      client.invalidate()
      try {
        const response = await client.fetch(`${app.url}/things`)
        await response.body?.cancel()
        call.status = response.status
      } catch (error) {
        call.status = error instanceof Error ? error.name : 'error'
      }
      calls.push(call)
      settle(false)
    }
  }
  const running = Promise.all(instances.map((client, i) => run(client, i))).finally(() => settle(true))
  return {
    calls,
    until(condition: () => boolean): Promise<void> {
      if (condition()) return Promise.resolve()
      return new Promise((resolve, reject) => {
        waiting.add({ condition, resolve, reject })
        settle(stopped || started >= MAX_CALLS)
      })
    },
    async stop(): Promise<Call[]> {
      stopped = true
      await running
      return calls
    },
  }
}

beforeAll(async () => {
  as = await startAuthorizationServer({
    defaultClient: false,
    clients: [{ client_id: 'svc', client_secret: OLD_SECRET, scope: 'read' }],
    resources: [{ resource: API }],
  })
  verifier = createVerifier({ issuer: as.issuer, audience: API })
  app = await MIDDLEWARE_APPS['node:http']({ verifier })
})

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()))
  await app?.close()
  await verifier?.close()
  await as?.close()
})

it('rotates a secret on the running server while calls keep flowing: none fails, then the old secret is refused', async () => {
  let currentSecret = OLD_SECRET
  let phase: Phase = 'old secret only'
  const instances = Array.from({ length: INSTANCES }, () => clientWith(() => currentSecret))
  const pinnedToOld = clientWith(OLD_SECRET)
  const pinnedToNew = clientWith(NEW_SECRET)
  const traffic = keepCalling(instances, () => phase)
  const finishedIn = (p: Phase) => traffic.calls.filter((c) => c.phase === p)
  const everyInstanceFinishedIn = (p: Phase) =>
    new Set(finishedIn(p).map((c) => c.instance)).size === INSTANCES

  try {
    await traffic.until(() => everyInstanceFinishedIn('old secret only'))

    // Overlap: the server accepts both secrets from the next request on.
    as.server.updateClient({ client_id: 'svc', client_secrets: [OLD_SECRET, NEW_SECRET], scope: 'read' })
    phase = 'both secrets'
    expect((await pinnedToNew.fetch(`${app.url}/things`)).status).toBe(200)
    expect((await pinnedToOld.fetch(`${app.url}/things`)).status).toBe(200)
    await traffic.until(() => everyInstanceFinishedIn('both secrets'))

    // The secret function now answers with the new secret. Retire the old one only once every
    // instance has finished a call begun after the switch: none still holds the old secret.
    currentSecret = NEW_SECRET
    phase = 'secret switched'
    await traffic.until(() => everyInstanceFinishedIn('secret switched'))

    as.server.updateClient({ client_id: 'svc', client_secret: NEW_SECRET, scope: 'read' })
    phase = 'old secret retired'
    await traffic.until(() => finishedIn('old secret retired').length >= 2 * INSTANCES)

    pinnedToOld.invalidate()
    const refused = pinnedToOld.getToken()
    await expect(refused).rejects.toBeInstanceOf(OAuthResponseError)
    await expect(refused).rejects.toMatchObject({ error: 'invalid_client', status: 401 })
    pinnedToNew.invalidate()
    expect((await pinnedToNew.fetch(`${app.url}/things`)).status).toBe(200)
  } finally {
    await traffic.stop()
  }

  const calls = traffic.calls
  expect(calls.filter((c) => c.status !== 200)).toEqual([])
  for (const p of ['old secret only', 'both secrets', 'secret switched', 'old secret retired'] as const) {
    expect(finishedIn(p).length).toBeGreaterThanOrEqual(INSTANCES)
  }
})
