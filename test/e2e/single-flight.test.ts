/**
 * 200 concurrent callers of `client.fetch` with an empty cache share one token request, counted
 * where it arrives: at a proxy in front of the authorization server's token endpoint.
 */
import { createTokenClient } from '@oauth-m2m/client'
import { startAuthorizationServer } from '@oauth-m2m/testing'
import { createVerifier } from '@oauth-m2m/verifier'
import { expect, it } from 'vitest'
import { startCountingProxy } from './support/counting-proxy.js'
import { MIDDLEWARE_APPS } from './support/protected-apps.js'

const API = 'https://inventory.example.test'
const CALLERS = 200

it('sends one token request for 200 concurrent callers', async () => {
  const as = await startAuthorizationServer({ resources: [{ resource: API }] })
  const proxy = await startCountingProxy(as.url)
  const verifier = createVerifier({ issuer: as.issuer, audience: API })
  const app = await MIDDLEWARE_APPS['node:http']({ verifier })
  const credentials = as.createClient()
  const client = createTokenClient({
    clientId: credentials.clientId,
    auth: credentials.auth,
    tokenEndpoint: `${proxy.url}/token`,
    resource: API,
    origins: [app.url],
  })
  try {
    const responses = await Promise.all(
      Array.from({ length: CALLERS }, () => client.fetch(`${app.url}/things`)),
    )
    const bodies = await Promise.all(responses.map((r) => r.json()))
    expect(responses.map((r) => r.status)).toEqual(Array(CALLERS).fill(200))
    expect(new Set(bodies.map((b) => JSON.stringify(b)))).toEqual(
      new Set([JSON.stringify({ clientId: credentials.clientId, scopes: ['read', 'write'] })]),
    )
    expect(proxy.count('POST', '/token')).toBe(1)
  } finally {
    await client.close()
    await app.close()
    await verifier.close()
    await proxy.close()
    await as.close()
  }
})
