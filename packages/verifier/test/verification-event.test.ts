/**
 * `oauth-m2m:verifier:verification`: one event per `verify()` outcome, for tokens minted by the
 * reference server over real loopback HTTP, JWT and opaque.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { clientSecretBasic } from '@oauth-m2m/core'
import { encodeBasicCredentials } from '@oauth-m2m/core/internal'
import { createAuthorizationServer, type ListeningServer } from '@oauth-m2m/server'
import {
  createVerifier,
  InsufficientScopeError,
  InvalidTokenError,
  VERIFICATION_CHANNEL,
  type VerificationEvent,
} from '@oauth-m2m/verifier'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const JWT_API = 'https://api.jwt.example'
const OPAQUE_API = 'https://api.opaque.example'
const CLIENT_SECRET = 'verification-event-secret-a'

let listening: ListeningServer
let issuer: string

beforeAll(async () => {
  const server = await createAuthorizationServer({
    clients: [
      { client_id: 'service-a', client_secret: CLIENT_SECRET, scope: 'read:things' },
      { client_id: 'api-b', client_secret: 'secret-b', scope: '' },
    ],
    resources: [{ resource: JWT_API }, { resource: OPAQUE_API, tokenFormat: 'opaque' }],
    rateLimit: false,
  })
  listening = await server.listen({ port: 0, host: '127.0.0.1' })
  issuer = listening.url
})

afterAll(() => listening.close())

async function getToken(resource: string): Promise<string> {
  const res = await request(`${issuer}/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: encodeBasicCredentials('service-a', CLIENT_SECRET),
    },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      scope: 'read:things',
      resource,
    }).toString(),
  })
  expect(res.statusCode).toBe(200)
  return ((await res.body.json()) as { access_token: string }).access_token
}

async function eventsDuring(action: () => Promise<unknown>): Promise<VerificationEvent[]> {
  const events: VerificationEvent[] = []
  const listener = (event: unknown) => events.push(event as VerificationEvent)
  subscribe(VERIFICATION_CHANNEL, listener)
  try {
    await action()
  } finally {
    unsubscribe(VERIFICATION_CHANNEL, listener)
  }
  return events
}

describe('oauth-m2m:verifier:verification', () => {
  it('reports a verified JWT with its source, then the same token from the cache', async () => {
    const verifier = createVerifier({ issuer, audience: JWT_API })
    const token = await getToken(JWT_API)
    const events = await eventsDuring(async () => {
      await verifier.verify(token)
      await verifier.verify(token)
    })
    expect(events).toEqual([
      { outcome: 'success', source: 'jwt', cached: false, durationMs: expect.any(Number) },
      { outcome: 'success', source: 'jwt', cached: true, durationMs: expect.any(Number) },
    ])
    for (const event of events) expect(event.durationMs).toBeGreaterThanOrEqual(0)
    await verifier.close()
  })

  it('reports a token verified by introspection', async () => {
    const verifier = createVerifier({
      issuer,
      audience: OPAQUE_API,
      introspection: { clientId: 'api-b', auth: clientSecretBasic('secret-b') },
    })
    const token = await getToken(OPAQUE_API)
    const events = await eventsDuring(() => verifier.verify(token))
    expect(events).toEqual([
      { outcome: 'success', source: 'introspection', cached: false, durationMs: expect.any(Number) },
    ])
    await verifier.close()
  })

  it('reports a refused token by its code and RFC 6750 error, cached or not', async () => {
    const verifier = createVerifier({ issuer, audience: JWT_API })
    const token = await getToken(JWT_API)
    const events = await eventsDuring(async () => {
      await expect(verifier.verify(`${token}x`)).rejects.toBeInstanceOf(InvalidTokenError)
      await verifier.verify(token)
      await expect(verifier.verify(token, { requiredScopes: ['write:things'] })).rejects.toBeInstanceOf(
        InsufficientScopeError,
      )
    })
    expect(events).toEqual([
      {
        outcome: 'failure',
        cached: false,
        durationMs: expect.any(Number),
        code: 'ERR_INVALID_TOKEN',
        error: 'invalid_token',
      },
      { outcome: 'success', source: 'jwt', cached: false, durationMs: expect.any(Number) },
      {
        outcome: 'failure',
        cached: true,
        durationMs: expect.any(Number),
        code: 'ERR_INSUFFICIENT_SCOPE',
        error: 'insufficient_scope',
      },
    ])
    // Plain data: never the token, nor any part of it.
    const text = JSON.stringify(events)
    for (const part of token.split('.')) expect(text).not.toContain(part)
    expect(text).not.toContain(CLIENT_SECRET)
    await verifier.close()
  })
})
