/**
 * The reference server's requests, recorded from its `oauth-m2m:server:request` channel: the real
 * server on a loopback port, called by the real client and by plain HTTP requests.
 */
import { clientSecretBasic, createTokenClient } from '@oauth-m2m/client'
import { createAuthorizationServer, type RequestLogEntry } from '@oauth-m2m/server'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { instrumentOAuthM2M, type OAuthM2MInstrumentation } from '../src/index.js'
import { CLIENT_ID, CLIENT_SECRET } from './support/servers.js'
import { createTelemetryRecorder, type TelemetryRecorder } from './support/telemetry-recorder.js'

const DURATION = 'oauth_m2m.server.request.duration'

let telemetry: TelemetryRecorder
let instrumentation: OAuthM2MInstrumentation
let issuer: string
let close: () => Promise<void>
/** What the server's own `onRequest` hook got: set beside the instrumentation, it changes nothing there. */
let logged: RequestLogEntry[]

beforeEach(async () => {
  telemetry = createTelemetryRecorder()
  instrumentation = instrumentOAuthM2M({
    tracerProvider: telemetry.tracerProvider,
    meterProvider: telemetry.meterProvider,
  })
  logged = []
  const server = await createAuthorizationServer({
    clients: [{ client_id: CLIENT_ID, client_secret: CLIENT_SECRET, scope: 'read' }],
    onRequest: (entry) => logged.push(entry),
  })
  ;({ url: issuer, close } = await server.listen({ port: 0, host: '127.0.0.1' }))
})
afterEach(async () => {
  instrumentation.unsubscribe()
  await close()
  await telemetry.shutdown()
})

async function tokenRequest(clientId: string, secret: string, scope: string): Promise<unknown> {
  const client = createTokenClient({
    tokenEndpoint: `${issuer}/token`,
    clientId,
    auth: clientSecretBasic(secret),
    scope,
    retry: false,
  })
  try {
    return await client.getToken().catch((error: unknown) => error)
  } finally {
    await client.close()
  }
}

/** The recorded points as attributes and count, in a stable order. */
async function recorded() {
  const points = await telemetry.histogram(DURATION)
  return points
    .map((point) => ({ ...point.attributes, count: point.value.count }))
    .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))
}

describe('requests to the token endpoint', () => {
  it('are recorded by client, auth method and outcome; a failed authentication without the id it claimed', async () => {
    await tokenRequest(CLIENT_ID, CLIENT_SECRET, 'read')
    await tokenRequest(CLIENT_ID, CLIENT_SECRET, 'read')
    await tokenRequest(CLIENT_ID, CLIENT_SECRET, 'admin')
    await tokenRequest('made-up-client-4711', 'guess', 'read')

    const token = { 'oauth_m2m.server.endpoint': 'token', 'http.request.method': 'POST' }
    expect(await recorded()).toEqual(
      [
        {
          ...token,
          'http.response.status_code': 200,
          'oauth_m2m.client.id': CLIENT_ID,
          'oauth_m2m.client.auth_method': 'client_secret_basic',
          count: 2,
        },
        {
          ...token,
          'http.response.status_code': 400,
          'oauth_m2m.client.id': CLIENT_ID,
          'oauth_m2m.client.auth_method': 'client_secret_basic',
          'error.type': 'invalid_scope',
          count: 1,
        },
        {
          ...token,
          'http.response.status_code': 401,
          'oauth_m2m.client.auth_method': 'client_secret_basic',
          'error.type': 'invalid_client',
          count: 1,
        },
      ].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    )
    const [point] = await telemetry.histogram(DURATION, { 'http.response.status_code': 200 })
    expect(point?.value.sum).toBeGreaterThan(0)
    // Once per request, with a request log hook set as well.
    expect(logged).toHaveLength(4)
    // (The client's own telemetry names it: there it is the configured id, not what a caller sent.)
    expect(JSON.stringify(await telemetry.histogram(DURATION))).not.toContain('made-up-client-4711')
  })
})

describe('other requests', () => {
  it('are recorded by endpoint; an unknown path is _OTHER, never the path itself', async () => {
    for (const path of ['/jwks', '/.well-known/oauth-authorization-server', '/no/such/path-0815']) {
      const response = await fetch(`${issuer}${path}`)
      await response.arrayBuffer()
    }

    expect(await recorded()).toEqual([
      {
        'oauth_m2m.server.endpoint': '_OTHER',
        'http.request.method': 'GET',
        'http.response.status_code': 404,
        'error.type': 'not_found',
        count: 1,
      },
      {
        'oauth_m2m.server.endpoint': 'jwks',
        'http.request.method': 'GET',
        'http.response.status_code': 200,
        count: 1,
      },
      {
        'oauth_m2m.server.endpoint': 'metadata',
        'http.request.method': 'GET',
        'http.response.status_code': 200,
        count: 1,
      },
    ])
    expect(await telemetry.everything()).not.toContain('path-0815')
  })

  it('at health endpoints are told apart: liveness and readiness', async () => {
    for (const path of ['/healthz', '/readyz']) await (await fetch(`${issuer}${path}`)).arrayBuffer()
    const points = await telemetry.histogram(DURATION)
    expect(points.map((point) => [point.attributes['oauth_m2m.server.endpoint'], point.value.count])).toEqual(
      [
        ['health', 1],
        ['readiness', 1],
      ],
    )
  })

  it('are no longer recorded after unsubscribe()', async () => {
    instrumentation.unsubscribe()
    await (await fetch(`${issuer}/jwks`)).arrayBuffer()
    expect(await recorded()).toEqual([])
  })
})

describe('a moved endpoint', () => {
  it('keeps its name: the server says which endpoint it routed to', async () => {
    const server = await createAuthorizationServer({
      clients: [{ client_id: CLIENT_ID, client_secret: CLIENT_SECRET, scope: 'read' }],
      endpoints: { token: 'http://127.0.0.1/oauth2/v2.0/token' },
      issuer: 'http://127.0.0.1',
    })
    const response = await server.handle(
      new Request('http://127.0.0.1/oauth2/v2.0/token', {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`,
        },
        body: 'grant_type=client_credentials',
      }),
    )
    expect(response.status).toBe(200)
    expect(await recorded()).toEqual([
      {
        'oauth_m2m.server.endpoint': 'token',
        'http.request.method': 'POST',
        'http.response.status_code': 200,
        'oauth_m2m.client.id': CLIENT_ID,
        'oauth_m2m.client.auth_method': 'client_secret_basic',
        count: 1,
      },
    ])
    expect(await telemetry.everything()).not.toContain('v2.0')
  })
})
