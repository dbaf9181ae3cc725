/**
 * The verifier's and the JWKS cache's telemetry, recorded from the real verifier checking tokens
 * of the real reference server on a loopback port.
 */
import { clientSecretBasic, createTokenClient } from '@oauth-m2m/client'
import { createVerifier, type Verifier } from '@oauth-m2m/verifier'
import { context, SpanKind, SpanStatusCode } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { instrumentOAuthM2M, type OAuthM2MInstrumentation } from '../src/index.js'
import {
  API,
  API_CLIENT_ID,
  API_SECRET,
  CLIENT_ID,
  CLIENT_SECRET,
  OPAQUE_API,
  type ReferenceServer,
  startReferenceServer,
} from './support/servers.js'
import { createTelemetryRecorder, type TelemetryRecorder } from './support/telemetry-recorder.js'

let as: ReferenceServer
let server: { 'server.address': string; 'server.port': number }
const contextManager = new AsyncLocalStorageContextManager()

beforeAll(async () => {
  context.setGlobalContextManager(contextManager.enable())
  as = await startReferenceServer()
  server = { 'server.address': '127.0.0.1', 'server.port': Number(new URL(as.issuer).port) }
})
afterAll(async () => {
  await as.close()
  contextManager.disable()
})

let telemetry: TelemetryRecorder
let instrumentation: OAuthM2MInstrumentation
const verifiers: Verifier[] = []

beforeEach(() => {
  telemetry = createTelemetryRecorder()
  instrumentation = instrumentOAuthM2M({
    tracerProvider: telemetry.tracerProvider,
    meterProvider: telemetry.meterProvider,
  })
})
afterEach(async () => {
  instrumentation.unsubscribe()
  await Promise.all(verifiers.splice(0).map((verifier) => verifier.close()))
  await telemetry.shutdown()
})

async function tokenFor(resource: string): Promise<string> {
  const client = createTokenClient({
    tokenEndpoint: `${as.issuer}/token`,
    clientId: CLIENT_ID,
    auth: clientSecretBasic(CLIENT_SECRET),
    scope: 'read',
    resource,
  })
  try {
    return (await client.getToken()).accessToken
  } finally {
    await client.close()
  }
}

function verifier(options: Partial<Parameters<typeof createVerifier>[0]> = {}): Verifier {
  const created = createVerifier({ issuer: as.issuer, audience: API, ...options })
  verifiers.push(created)
  return created
}

/** Runs `work` inside an active span, as a resource server's request handler would. */
async function inRequestSpan<T>(work: () => Promise<T>): Promise<T> {
  return telemetry.tracerProvider.getTracer('test').startActiveSpan('GET /things', async (span) => {
    try {
      return await work()
    } finally {
      span.end()
    }
  })
}

describe('JWT verification', () => {
  it('counts and times the JWKS fetch by reason and adds it to the active span', async () => {
    const token = await tokenFor(API)
    await inRequestSpan(() => verifier().verify(token, { requiredScopes: ['read'] }))

    const initial = { ...server, 'oauth_m2m.jwks.reason': 'initial' }
    expect(await telemetry.count('oauth_m2m.jwks.fetches', initial)).toBe(1)
    const fetches = await telemetry.histogram('oauth_m2m.jwks.fetch.duration')
    expect(fetches.map((point) => [point.attributes, point.value.count])).toEqual([[initial, 1]])
    expect(fetches[0]?.value.sum).toBeGreaterThan(0)
    expect(
      await telemetry.count('oauth_m2m.verifier.verifications', {
        'oauth_m2m.verification.result': 'failure',
      }),
    ).toBe(0)
    const [request] = telemetry.spans('GET /things')
    expect(request?.events.map((event) => [event.name, event.attributes])).toEqual([
      [
        'oauth_m2m.jwks.fetch',
        { ...server, 'oauth_m2m.jwks.reason': 'initial', 'oauth_m2m.jwks.key_count': expect.any(Number) },
      ],
    ])
  })

  it('counts and times verify() outcomes by result, source, cache and error code', async () => {
    const tokens = verifier()
    const token = await tokenFor(API)
    await tokens.verify(token)
    await tokens.verify(token)
    await tokens.verify('not-a-token.at.all').catch(() => {})

    const outcomes = (await telemetry.points('oauth_m2m.verifier.verifications'))
      .map((point) => ({ ...point.attributes, count: point.value }))
      .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))
    expect(outcomes).toEqual(
      [
        {
          'oauth_m2m.verification.result': 'success',
          'oauth_m2m.verification.source': 'jwt',
          'oauth_m2m.verification.cached': false,
          count: 1,
        },
        {
          'oauth_m2m.verification.result': 'success',
          'oauth_m2m.verification.source': 'jwt',
          'oauth_m2m.verification.cached': true,
          count: 1,
        },
        {
          'oauth_m2m.verification.result': 'failure',
          'oauth_m2m.verification.cached': false,
          'error.type': 'ERR_INVALID_TOKEN',
          'oauth_m2m.oauth.error': 'invalid_token',
          count: 1,
        },
      ].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    )
    const durations = await telemetry.histogram('oauth_m2m.verifier.verification.duration')
    expect(durations.reduce((sum, point) => sum + point.value.count, 0)).toBe(3)
    const [uncached] = await telemetry.histogram('oauth_m2m.verifier.verification.duration', {
      'oauth_m2m.verification.result': 'success',
      'oauth_m2m.verification.cached': false,
    })
    // The first verification fetched the JWKS: it took some time.
    expect(uncached?.value.sum).toBeGreaterThan(0)
  })

  it('counts refused tokens by error code and RFC 6750 error, each an event of the active span', async () => {
    const tokens = verifier()
    const token = await tokenFor(API)
    await inRequestSpan(() => tokens.verify('not-a-token.at.all').catch(() => {}))
    await inRequestSpan(() => tokens.verify(token, { requiredScopes: ['write'] }).catch(() => {}))

    const failure = { 'oauth_m2m.verification.result': 'failure' }
    expect(
      await telemetry.count('oauth_m2m.verifier.verifications', {
        ...failure,
        'error.type': 'ERR_INVALID_TOKEN',
        'oauth_m2m.oauth.error': 'invalid_token',
      }),
    ).toBe(1)
    expect(
      await telemetry.count('oauth_m2m.verifier.verifications', {
        ...failure,
        'error.type': 'ERR_INSUFFICIENT_SCOPE',
        'oauth_m2m.oauth.error': 'insufficient_scope',
      }),
    ).toBe(1)
    const rejections = telemetry
      .spans('GET /things')
      .flatMap((span) => span.events.filter((event) => event.name === 'oauth_m2m.verifier.rejection'))
    expect(rejections.map((event) => event.attributes?.['error.type']).sort()).toEqual([
      'ERR_INSUFFICIENT_SCOPE',
      'ERR_INVALID_TOKEN',
    ])
  })

  it('counts a failed JWKS fetch with its error.type', async () => {
    const token = await tokenFor(API)
    const unreachable = 'http://127.0.0.1:9/jwks'
    await verifier({ jwksUri: unreachable })
      .verify(token)
      .catch(() => {})

    const [timed] = await telemetry.histogram('oauth_m2m.jwks.fetch.duration')
    expect(timed?.attributes['error.type']).toEqual(expect.stringMatching(/^E/))
    expect(timed?.value.count).toBe(1)
    const failed = await telemetry.points('oauth_m2m.jwks.fetches')
    expect(failed.map(({ attributes, value }) => ({ attributes, value }))).toEqual([
      {
        attributes: {
          'server.address': '127.0.0.1',
          'server.port': 9,
          'error.type': expect.stringMatching(/^E/),
        },
        value: 1,
      },
    ])
  })
})

describe('introspection', () => {
  const introspection = { clientId: API_CLIENT_ID, auth: clientSecretBasic(API_SECRET) }

  it('is a CLIENT span under the active span and a duration point, by outcome', async () => {
    const tokens = verifier({ audience: OPAQUE_API, introspection })
    const token = await tokenFor(OPAQUE_API)
    await inRequestSpan(() => tokens.verify(token))
    await inRequestSpan(() => tokens.verify('an-opaque-token-the-server-never-issued').catch(() => {}))

    const spans = telemetry.spans('oauth_m2m.verifier.introspection')
    expect(spans.map((span) => span.attributes)).toEqual([
      { ...server, 'oauth_m2m.introspection.outcome': 'active', 'http.response.status_code': 200 },
      { ...server, 'oauth_m2m.introspection.outcome': 'inactive', 'http.response.status_code': 200 },
    ])
    const requests = telemetry.spans('GET /things')
    for (const [index, span] of spans.entries()) {
      expect(span.kind).toBe(SpanKind.CLIENT)
      expect(span.status.code).toBe(SpanStatusCode.UNSET)
      expect(span.parentSpanContext?.spanId).toBe(requests[index]?.spanContext().spanId)
      // Drawn from its measured duration, inside the request's span.
      expect(span.duration[0] * 1e9 + span.duration[1]).toBeGreaterThan(0)
    }
    const verified = await telemetry.count('oauth_m2m.verifier.verifications', {
      'oauth_m2m.verification.result': 'success',
      'oauth_m2m.verification.source': 'introspection',
    })
    expect(verified).toBe(1)
    const points = await telemetry.histogram('oauth_m2m.verifier.introspection.duration')
    expect(
      points.map((point) => [point.attributes['oauth_m2m.introspection.outcome'], point.value.count]),
    ).toEqual([
      ['active', 1],
      ['inactive', 1],
    ])
  })

  it('that fails is an error span with error.type', async () => {
    const tokens = verifier({
      audience: OPAQUE_API,
      introspection: { ...introspection, auth: clientSecretBasic('wrong-api-secret') },
    })
    await tokens.verify('an-opaque-token').catch(() => {})

    const [span] = telemetry.spans('oauth_m2m.verifier.introspection')
    expect(span?.status.code).toBe(SpanStatusCode.ERROR)
    expect(span?.attributes).toMatchObject({
      ...server,
      'oauth_m2m.introspection.outcome': 'error',
      'http.response.status_code': 401,
      'error.type': expect.stringMatching(/^ERR_/),
    })
    const [point] = await telemetry.histogram('oauth_m2m.verifier.introspection.duration')
    expect(point?.attributes['error.type']).toBe(span?.attributes['error.type'])
  })
})
