/**
 * Signing-key rotation under traffic: requests keep flowing through `client.fetch` while the
 * authorization server rotates its key twice, and new tokens (signed with each new key) replace
 * old ones on the way. No request fails, and the verifier refuses nothing, not even a first
 * attempt that the client's retry-once on `invalid_token` could hide.
 *
 * Both run with the verifier's default JWKS cooldown (30 s), which covers both rotations: the
 * server publishes its next key ahead of use, so a verifier that fetched the JWKS before a rotation
 * already holds the key that signs after it.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { createTokenClient } from '@oauth-m2m/client'
import { startAuthorizationServer } from '@oauth-m2m/testing'
import { createVerifier, REJECTION_CHANNEL } from '@oauth-m2m/verifier'
import { expect, it } from 'vitest'
import { MIDDLEWARE_APPS } from './support/protected-apps.js'

const API = 'https://inventory.example.test'
const ROUNDS = 30
const CALLS_PER_ROUND = 10
const ROTATE_AT_ROUNDS = new Set([10, 20])
const NEW_TOKEN_EVERY_ROUNDS = 5

function kidOf(jwt: string): string {
  const header = JSON.parse(Buffer.from(jwt.split('.')[0] ?? '', 'base64url').toString()) as { kid: string }
  return header.kid
}

it('serves every request while the signing key rotates mid-traffic', async () => {
  const as = await startAuthorizationServer({ resources: [{ resource: API }] })
  const verifier = createVerifier({ issuer: as.issuer, audience: API })
  const app = await MIDDLEWARE_APPS['node:http']({ verifier })
  const credentials = as.createClient()
  const client = createTokenClient({ ...credentials, scope: 'read', resource: API, origins: [app.url] })
  const rejections: unknown[] = []
  const onRejection = (event: unknown) => rejections.push(event)
  subscribe(REJECTION_CHANNEL, onRejection)
  try {
    const statuses: number[] = []
    const kids = new Set<string>()
    for (let round = 0; round < ROUNDS; round++) {
      if (ROTATE_AT_ROUNDS.has(round)) await as.server.rotateSigningKey()
      if (round % NEW_TOKEN_EVERY_ROUNDS === 0) client.invalidate()
      const calls = Array.from({ length: CALLS_PER_ROUND }, () => client.fetch(`${app.url}/things`))
      for (const response of await Promise.all(calls)) {
        statuses.push(response.status)
        await response.body?.cancel()
      }
      kids.add(kidOf((await client.getToken()).accessToken))
    }
    expect(statuses).toHaveLength(ROUNDS * CALLS_PER_ROUND)
    expect(statuses.every((status) => status === 200)).toBe(true)
    expect(rejections).toEqual([])
    expect(kids.size).toBe(ROTATE_AT_ROUNDS.size + 1)
  } finally {
    unsubscribe(REJECTION_CHANNEL, onRejection)
    await client.close()
    await app.close()
    await verifier.close()
    await as.close()
  }
})

it('accepts a token signed right after a rotation, without waiting out the JWKS cooldown', async () => {
  const as = await startAuthorizationServer({ resources: [{ resource: API }] })
  const verifier = createVerifier({ issuer: as.issuer, audience: API })
  const app = await MIDDLEWARE_APPS['node:http']({ verifier })
  const client = createTokenClient({ ...as.createClient(), resource: API, origins: [app.url] })
  try {
    expect((await client.fetch(`${app.url}/things`)).status).toBe(200)
    await as.server.rotateSigningKey()
    client.invalidate()
    expect((await client.fetch(`${app.url}/things`)).status).toBe(200)
  } finally {
    await client.close()
    await app.close()
    await verifier.close()
    await as.close()
  }
})
