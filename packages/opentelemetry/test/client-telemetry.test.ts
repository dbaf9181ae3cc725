/**
 * The client's telemetry, recorded from the real client against the real reference server on a
 * loopback port, read back through the OpenTelemetry SDK's in-memory exporters.
 */

import {
  clientSecretBasic,
  createTokenClient,
  type TokenClient,
  type TokenClientOptions,
  type TokenStore,
} from '@oauth-m2m/client'
import { context, SpanKind, SpanStatusCode } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { instrumentOAuthM2M, type OAuthM2MInstrumentation } from '../src/index.js'
import {
  API,
  CLIENT_ID,
  CLIENT_SECRET,
  type ReferenceServer,
  startFlakyFront,
  startReferenceServer,
} from './support/servers.js'
import { createTelemetryRecorder, type TelemetryRecorder } from './support/telemetry-recorder.js'

const FETCH_SPAN = 'oauth_m2m.client.token_fetch'
const FETCH_DURATION = 'oauth_m2m.client.token_fetch.duration'

let as: ReferenceServer
let port: number
const contextManager = new AsyncLocalStorageContextManager()

beforeAll(async () => {
  context.setGlobalContextManager(contextManager.enable())
  as = await startReferenceServer()
  port = Number(new URL(as.issuer).port)
})
afterAll(async () => {
  await as.close()
  contextManager.disable()
})

let telemetry: TelemetryRecorder
let instrumentation: OAuthM2MInstrumentation
const clients: TokenClient[] = []

beforeEach(() => {
  telemetry = createTelemetryRecorder()
  instrumentation = instrumentOAuthM2M({
    tracerProvider: telemetry.tracerProvider,
    meterProvider: telemetry.meterProvider,
  })
})
afterEach(async () => {
  instrumentation.unsubscribe()
  await Promise.all(clients.splice(0).map((client) => client.close()))
  await telemetry.shutdown()
})

function client(options: Partial<TokenClientOptions> = {}): TokenClient {
  const created = createTokenClient({
    tokenEndpoint: `${as.issuer}/token`,
    clientId: CLIENT_ID,
    auth: clientSecretBasic(CLIENT_SECRET),
    scope: 'read',
    resource: API,
    ...options,
  } as TokenClientOptions)
  clients.push(created)
  return created
}

const server = () => ({ 'server.address': '127.0.0.1', 'server.port': port })

describe('a token request', () => {
  it('is one CLIENT span with the client, server, request and attempts, and one duration point', async () => {
    await client().getToken()

    const [span, ...others] = telemetry.spans(FETCH_SPAN)
    expect(others).toEqual([])
    expect(span?.kind).toBe(SpanKind.CLIENT)
    expect(span?.status.code).toBe(SpanStatusCode.UNSET)
    expect(span?.attributes).toEqual({
      'oauth_m2m.client.id': CLIENT_ID,
      ...server(),
      'oauth_m2m.token_fetch.background': false,
      'oauth_m2m.token.scopes': ['read'],
      'oauth_m2m.token.resources': [API],
      'oauth_m2m.token.audiences': [],
      'oauth_m2m.token_fetch.attempts': 1,
    })
    expect(span?.instrumentationScope.name).toBe('@oauth-m2m/opentelemetry')

    const points = await telemetry.histogram(FETCH_DURATION)
    expect(points).toHaveLength(1)
    expect(points[0]?.attributes).toEqual({
      'oauth_m2m.client.id': CLIENT_ID,
      ...server(),
      'oauth_m2m.token_fetch.background': false,
    })
    expect(points[0]?.value.count).toBe(1)
    expect(points[0]?.value.sum).toBeGreaterThan(0)
    // The buckets advised by the semantic conventions for HTTP durations, in seconds.
    expect(points[0]?.value.buckets.boundaries).toEqual([
      0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
    ])
    const metric = (await telemetry.metrics()).find((m) => m.descriptor.name === FETCH_DURATION)
    expect(metric?.descriptor.unit).toBe('s')
  })

  it("is a child of the caller's active span", async () => {
    const tracer = telemetry.tracerProvider.getTracer('test')
    await tracer.startActiveSpan('nightly-job', async (job) => {
      await client().getToken()
      job.end()
    })

    const [job] = telemetry.spans('nightly-job')
    const [fetch] = telemetry.spans(FETCH_SPAN)
    expect(fetch?.spanContext().traceId).toBe(job?.spanContext().traceId)
    expect(fetch?.parentSpanContext?.spanId).toBe(job?.spanContext().spanId)
  })

  it('that fails ends its span with an error status and the OAuth error as error.type, not retried on invalid_client', async () => {
    const error = await client({ auth: clientSecretBasic('wrong-secret') })
      .getToken()
      .catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'ERR_OAUTH_RESPONSE', error: 'invalid_client' })

    const [span] = telemetry.spans(FETCH_SPAN)
    expect(span?.status.code).toBe(SpanStatusCode.ERROR)
    expect(span?.status.message).toContain('invalid_client')
    expect(span?.attributes['error.type']).toBe('invalid_client')
    expect(span?.attributes['http.response.status_code']).toBe(401)
    expect(span?.attributes['oauth_m2m.token_fetch.attempts']).toBe(1)
    expect(span?.events).toEqual([])

    const failed = await telemetry.histogram(FETCH_DURATION, {
      'error.type': 'invalid_client',
      'http.response.status_code': 401,
    })
    expect(failed.map((point) => point.value.count)).toEqual([1])
    expect(await telemetry.everything()).not.toContain('wrong-secret')
    expect(await telemetry.count('oauth_m2m.client.token_fetch.retries')).toBe(0)
  })
})

describe('retries and back-off', () => {
  it('counts a retried 503 and adds a retry event to the span', async () => {
    const front = await startFlakyFront(as.issuer, [{ status: 503 }])
    try {
      await client({ tokenEndpoint: front.tokenEndpoint, retry: { minDelayMs: 1, maxDelayMs: 5 } }).getToken()
      expect(front.tokenRequests()).toBe(2)

      const frontPort = Number(new URL(front.tokenEndpoint).port)
      const retries = await telemetry.points('oauth_m2m.client.token_fetch.retries')
      expect(retries.map(({ attributes, value }) => ({ attributes, value }))).toEqual([
        {
          attributes: {
            'oauth_m2m.client.id': CLIENT_ID,
            'server.address': '127.0.0.1',
            'server.port': frontPort,
            'error.type': expect.stringMatching(/^ERR_/),
          },
          value: 1,
        },
      ])
      const [span] = telemetry.spans(FETCH_SPAN)
      expect(span?.status.code).toBe(SpanStatusCode.UNSET)
      expect(span?.attributes['oauth_m2m.token_fetch.attempts']).toBe(2)
      expect(
        span?.events.map((event) => [event.name, event.attributes?.['oauth_m2m.retry.attempt']]),
      ).toEqual([['oauth_m2m.client.token_fetch.retry', 1]])
      expect(span?.events[0]?.attributes?.['oauth_m2m.retry.delay']).toBeLessThan(1)
    } finally {
      await front.close()
    }
  })

  it('counts a 429 with Retry-After as a back-off, with its status, on the metric and the span', async () => {
    const front = await startFlakyFront(as.issuer, [{ status: 429, headers: { 'retry-after': '1' } }])
    try {
      await client({ tokenEndpoint: front.tokenEndpoint }).getToken()

      const backoffs = await telemetry.points('oauth_m2m.client.backoffs')
      expect(backoffs.map(({ attributes, value }) => ({ attributes, value }))).toEqual([
        {
          attributes: {
            'oauth_m2m.client.id': CLIENT_ID,
            'server.address': '127.0.0.1',
            'server.port': Number(new URL(front.tokenEndpoint).port),
            'http.response.status_code': 429,
          },
          value: 1,
        },
      ])
      const [span] = telemetry.spans(FETCH_SPAN)
      expect(span?.events.map((event) => event.name)).toEqual([
        'oauth_m2m.client.backoff',
        'oauth_m2m.client.token_fetch.retry',
      ])
      // Retry-After: 1, in seconds.
      expect(span?.events[1]?.attributes?.['oauth_m2m.retry.delay']).toBe(1)
    } finally {
      await front.close()
    }
  })
})

describe('the cache', () => {
  it('counts a miss, then hits, by client and server', async () => {
    const tokens = client()
    await tokens.getToken()
    await tokens.getToken()
    await tokens.getToken()

    const attributes = { 'oauth_m2m.client.id': CLIENT_ID, ...server() }
    expect(
      await telemetry.count('oauth_m2m.client.cache.lookups', {
        ...attributes,
        'oauth_m2m.cache.result': 'miss',
      }),
    ).toBe(1)
    expect(
      await telemetry.count('oauth_m2m.client.cache.lookups', {
        ...attributes,
        'oauth_m2m.cache.result': 'hit',
      }),
    ).toBe(2)
    expect(telemetry.spans(FETCH_SPAN)).toHaveLength(1)
  })

  it('names the issuer as the server of a client that discovers its token endpoint', async () => {
    await client({ tokenEndpoint: undefined, issuer: as.issuer }).getToken()

    const [point] = await telemetry.points('oauth_m2m.client.cache.lookups')
    expect(point?.attributes).toEqual({
      'oauth_m2m.client.id': CLIENT_ID,
      ...server(),
      'oauth_m2m.cache.result': 'miss',
    })
    expect(telemetry.spans(FETCH_SPAN)[0]?.attributes).toMatchObject(server())
  })

  it('counts a stale token and its background refresh, a span of its own linked to the caller', async () => {
    let now = Date.now()
    const tokens = client({ now: () => now, refreshJitterRatio: 0 })
    await tokens.getToken()
    // Past refreshAt (80 % of the 1 h lifetime), before the expiry margin: stale.
    now += 50 * 60_000
    const tracer = telemetry.tracerProvider.getTracer('test')
    await tracer.startActiveSpan('request', async (request) => {
      await tokens.getToken()
      request.end()
    })
    await expect.poll(() => telemetry.spans(FETCH_SPAN).length).toBe(2)

    expect(
      await telemetry.count('oauth_m2m.client.cache.lookups', { 'oauth_m2m.cache.result': 'stale' }),
    ).toBe(1)
    expect(
      await telemetry.count('oauth_m2m.client.refreshes', { 'oauth_m2m.client.id': CLIENT_ID, ...server() }),
    ).toBe(1)
    const refresh = telemetry.spans(FETCH_SPAN)[1]
    const [request] = telemetry.spans('request')
    expect(refresh?.attributes['oauth_m2m.token_fetch.background']).toBe(true)
    expect(refresh?.parentSpanContext).toBeUndefined()
    expect(refresh?.links.map((link) => link.context.spanId)).toEqual([request?.spanContext().spanId])
    const background = await telemetry.histogram(FETCH_DURATION, { 'oauth_m2m.token_fetch.background': true })
    expect(background.map((point) => point.value.count)).toEqual([1])
  })

  it('counts a failing shared store by operation', async () => {
    const failing: TokenStore = {
      get: () => Promise.reject(new Error('store down')),
      set: () => Promise.reject(new Error('store down')),
      delete: () => Promise.reject(new Error('store down')),
    }
    await client({ store: failing }).getToken()

    const attributes = { 'oauth_m2m.client.id': CLIENT_ID, ...server(), 'error.type': 'Error' }
    expect(
      await telemetry.count('oauth_m2m.client.store.errors', {
        ...attributes,
        'oauth_m2m.store.operation': 'get',
      }),
    ).toBe(1)
    expect(
      await telemetry.count('oauth_m2m.client.store.errors', {
        ...attributes,
        'oauth_m2m.store.operation': 'set',
      }),
    ).toBe(1)
  })
})
