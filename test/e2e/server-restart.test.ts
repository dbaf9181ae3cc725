/**
 * The authorization server goes away mid-run and comes back on the same port: while it is down the
 * client keeps serving its valid cached token (and the API keeps verifying it with the keys it
 * already has); once it is back, a client whose token was invalidated gets a new one and carries
 * on.
 */
import { createTokenClient } from '@oauth-m2m/client'
import { clientSecretBasic, NetworkError } from '@oauth-m2m/core'
import { requestJson } from '@oauth-m2m/core/internal'
import { createVerifier } from '@oauth-m2m/verifier'
import { expect, it } from 'vitest'
import { MIDDLEWARE_APPS } from './support/protected-apps.js'
import { persistedSigningKey, startRestartableServer } from './support/restartable-server.js'

const API = 'https://inventory.example.test'
const CALLS_PER_PHASE = 20

it('keeps serving while the authorization server is down, and recovers once it is back', async () => {
  const as = await startRestartableServer({
    clients: [{ client_id: 'svc', client_secret: 'svc-secret', scope: 'read' }],
    resources: [{ resource: API }],
    signing: { keys: [await persistedSigningKey()] },
  })
  const verifier = createVerifier({ issuer: as.url, audience: API })
  const app = await MIDDLEWARE_APPS['node:http']({ verifier })
  const client = createTokenClient({
    issuer: as.url,
    clientId: 'svc',
    auth: clientSecretBasic('svc-secret'),
    resource: API,
    origins: [app.url],
  })
  const callApi = async () => {
    const responses = await Promise.all(
      Array.from({ length: CALLS_PER_PHASE }, () => client.fetch(`${app.url}/things`)),
    )
    await Promise.all(responses.map((r) => r.body?.cancel()))
    return responses.map((r) => r.status)
  }
  const allOk = Array(CALLS_PER_PHASE).fill(200)
  try {
    expect(await callApi()).toEqual(allOk)
    const firstToken = (await client.getToken()).accessToken

    await as.stop()
    await expect(requestJson(`${as.url}/jwks`, { timeoutMs: 2000 })).rejects.toBeInstanceOf(NetworkError)
    expect(await callApi()).toEqual(allOk)
    expect((await client.getToken()).accessToken).toBe(firstToken)

    await as.start()
    client.invalidate()
    expect(await callApi()).toEqual(allOk)
    expect((await client.getToken()).accessToken).not.toBe(firstToken)
  } finally {
    await client.close()
    await app.close()
    await verifier.close()
    await as.stop()
  }
})
