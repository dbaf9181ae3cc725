/**
 * A revoked opaque token stops working at a resource server within the verifier's introspection
 * cache bound (`maxTtlMs`): until then a cached "active" answer may still be served, after it the
 * token is refused, and a client using `fetch` recovers with a new token.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { setTimeout as sleep } from 'node:timers/promises'
import { createTokenClient } from '@oauth-m2m/client'
import { startAuthorizationServer } from '@oauth-m2m/testing'
import { createVerifier, INTROSPECTION_CHANNEL, type IntrospectionEvent } from '@oauth-m2m/verifier'
import { request } from 'undici'
import { expect, it } from 'vitest'
import { MIDDLEWARE_APPS } from './support/protected-apps.js'

const API = 'https://billing.example.test'
/** The verifier's introspection cache bound. Short, so that the test waits little. */
const MAX_TTL_MS = 300

it('refuses a revoked opaque token once the introspection cache bound has passed', async () => {
  const as = await startAuthorizationServer({
    clients: [{ client_id: 'billing-rs' }],
    resources: [{ resource: API, tokenFormat: 'opaque' }],
  })
  const rs = as.createClient('billing-rs')
  const verifier = createVerifier({
    issuer: as.issuer,
    audience: API,
    introspection: { clientId: rs.clientId, auth: rs.auth, maxTtlMs: MAX_TTL_MS },
  })
  const app = await MIDDLEWARE_APPS['node:http']({ verifier })
  const credentials = as.createClient()
  const client = createTokenClient({ ...credentials, resource: API, origins: [app.url] })
  const introspections: IntrospectionEvent['outcome'][] = []
  const onIntrospection = (event: unknown) => introspections.push((event as IntrospectionEvent).outcome)
  subscribe(INTROSPECTION_CHANNEL, onIntrospection)
  const callWith = async (token: string) => {
    const response = await request(`${app.url}/things`, { headers: { authorization: `Bearer ${token}` } })
    await response.body.dump()
    return { status: response.statusCode, challenge: response.headers['www-authenticate'] }
  }
  try {
    const revoked = (await client.getToken()).accessToken
    expect((await callWith(revoked)).status).toBe(200)
    expect(introspections).toEqual(['active'])

    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' }
    const body = new URLSearchParams({ token: revoked, token_type_hint: 'access_token' })
    const revocationEndpoint = as.server.metadata.revocation_endpoint
    await credentials.auth.apply(
      { headers, body },
      { clientId: credentials.clientId, endpoint: revocationEndpoint },
    )
    const revocation = await request(revocationEndpoint, { method: 'POST', headers, body: body.toString() })
    await revocation.body.dump()
    expect(revocation.statusCode).toBe(200)

    const before = introspections.length
    const rightAfter = await callWith(revoked)
    const servedFromCache = introspections.length === before
    expect(rightAfter.status).toBe(servedFromCache ? 200 : 401)

    await sleep(MAX_TTL_MS + 50)
    const afterBound = await callWith(revoked)
    expect(afterBound.status).toBe(401)
    expect(afterBound.challenge).toMatch(/error="invalid_token"/)
    expect(introspections.at(-1)).toBe('inactive')

    const recovered = await client.fetch(`${app.url}/things`)
    expect(recovered.status).toBe(200)
    expect(await recovered.json()).toEqual({ clientId: credentials.clientId, scopes: ['read', 'write'] })
    expect((await client.getToken()).accessToken).not.toBe(revoked)
  } finally {
    unsubscribe(INTROSPECTION_CHANNEL, onIntrospection)
    await client.close()
    await app.close()
    await verifier.close()
    await as.close()
  }
})
