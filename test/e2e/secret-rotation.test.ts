/**
 * Client secret rotation without downtime: the server accepts two secrets during the overlap, the
 * client's secret function switches from the old one to the new one, and once the server is
 * restarted with the new secret only, the old one is refused with `invalid_client` while the
 * client keeps working.
 */
import { createTokenClient, OAuthResponseError, type TokenClient } from '@oauth-m2m/client'
import { clientSecretBasic, type SecretSource } from '@oauth-m2m/core'
import type { AuthorizationServerConfig } from '@oauth-m2m/server'
import { createVerifier } from '@oauth-m2m/verifier'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { type AppUnderTest, MIDDLEWARE_APPS } from './support/protected-apps.js'
import {
  persistedSigningKey,
  type RestartableServer,
  startRestartableServer,
} from './support/restartable-server.js'

const API = 'https://inventory.example.test'
const OLD_SECRET = 'old-secret-4d1f0c'
const NEW_SECRET = 'new-secret-9b27e3'

let config: AuthorizationServerConfig
let as: RestartableServer
let app: AppUnderTest
let verifier: ReturnType<typeof createVerifier>
const clients: TokenClient[] = []

function clientWith(secret: SecretSource): TokenClient {
  const client = createTokenClient({
    issuer: as.url,
    clientId: 'svc',
    auth: clientSecretBasic(secret),
    resource: API,
    origins: [app.url],
  })
  clients.push(client)
  return client
}

beforeAll(async () => {
  config = {
    clients: [{ client_id: 'svc', client_secrets: [OLD_SECRET, NEW_SECRET], scope: 'read' }],
    resources: [{ resource: API }],
    signing: { keys: [await persistedSigningKey()] },
  }
  as = await startRestartableServer(config)
  verifier = createVerifier({ issuer: as.url, audience: API })
  app = await MIDDLEWARE_APPS['node:http']({ verifier })
})

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()))
  await app?.close()
  await verifier?.close()
  await as?.stop()
})

it('moves a client from the old secret to the new one, then retires the old one', async () => {
  let currentSecret = OLD_SECRET
  const rotating = clientWith(() => currentSecret)
  const pinnedToOld = clientWith(OLD_SECRET)
  const pinnedToNew = clientWith(NEW_SECRET)

  // Overlap: both secrets are accepted.
  for (const client of [rotating, pinnedToOld, pinnedToNew]) {
    expect((await client.fetch(`${app.url}/things`)).status).toBe(200)
  }

  // The secret function now answers with the new secret; the next token request uses it.
  currentSecret = NEW_SECRET
  rotating.invalidate()
  expect((await rotating.fetch(`${app.url}/things`)).status).toBe(200)

  // The old secret is removed from the server's configuration.
  await as.stop()
  await as.start({ ...config, clients: [{ client_id: 'svc', client_secret: NEW_SECRET, scope: 'read' }] })

  for (const client of [rotating, pinnedToOld, pinnedToNew]) client.invalidate()
  const refused = pinnedToOld.getToken()
  await expect(refused).rejects.toBeInstanceOf(OAuthResponseError)
  await expect(refused).rejects.toMatchObject({ error: 'invalid_client', status: 401 })
  expect((await rotating.fetch(`${app.url}/things`)).status).toBe(200)
  expect((await pinnedToNew.fetch(`${app.url}/things`)).status).toBe(200)
})
