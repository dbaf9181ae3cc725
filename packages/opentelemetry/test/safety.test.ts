/**
 * What the instrumentation must never do: record a credential, a token or an assertion; give a
 * metric an attribute of unbounded cardinality; keep recording after unsubscribe; or let a failure
 * of its own reach the application.
 */
import { generateKeyPairSync } from 'node:crypto'
import {
  clientSecretBasic,
  clientSecretJwt,
  clientSecretPost,
  createTokenClient,
  privateKeyJwt,
  type TokenClient,
} from '@oauth-m2m/client'
import { createVerifier } from '@oauth-m2m/verifier'
import { type DiagLogger, DiagLogLevel, diag, type Tracer, type TracerProvider } from '@opentelemetry/api'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { instrumentOAuthM2M } from '../src/index.js'
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
import { createTelemetryRecorder } from './support/telemetry-recorder.js'

const HMAC_SECRET = 'hmac-shared-secret-do-not-record-0123456789'
const POST_SECRET = 'post-secret-do-not-record'
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })

/** The claims of a JWT access token, read without checking it. */
const claimsOf = (jwt: string) =>
  JSON.parse(Buffer.from(jwt.split('.')[1] as string, 'base64url').toString('utf8')) as { jti?: unknown }

let as: ReferenceServer
beforeAll(async () => {
  const publicJwk = { ...publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'ES256', use: 'sig' }
  as = await startReferenceServer([
    { client_id: 'svc-post', client_secret: POST_SECRET, token_endpoint_auth_method: 'client_secret_post' },
    { client_id: 'svc-hmac', client_secret: HMAC_SECRET, token_endpoint_auth_method: 'client_secret_jwt' },
    { client_id: 'svc-key', token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [publicJwk] } },
  ])
})
afterAll(async () => {
  await as.close()
})

/** Every metric attribute this package may set: each is bounded by configuration, none by traffic. */
const BOUNDED_METRIC_ATTRIBUTES = new Set([
  'oauth_m2m.client.id',
  'server.address',
  'server.port',
  'error.type',
  'http.response.status_code',
  'oauth_m2m.token_fetch.background',
  'oauth_m2m.cache.result',
  'oauth_m2m.store.operation',
  'oauth_m2m.oauth.error',
  'oauth_m2m.introspection.outcome',
  'oauth_m2m.verification.result',
  'oauth_m2m.verification.source',
  'oauth_m2m.verification.cached',
  'oauth_m2m.jwks.reason',
  'oauth_m2m.server.endpoint',
  'oauth_m2m.client.auth_method',
  'http.request.method',
])

describe('what is recorded', () => {
  it('never holds a secret, a token, a token id or an assertion, through every auth method, success and failure', async () => {
    const telemetry = createTelemetryRecorder()
    const instrumentation = instrumentOAuthM2M({
      tracerProvider: telemetry.tracerProvider,
      meterProvider: telemetry.meterProvider,
    })
    const tokenEndpoint = `${as.issuer}/token`
    const clients: TokenClient[] = [
      createTokenClient({
        tokenEndpoint,
        clientId: CLIENT_ID,
        auth: clientSecretBasic(CLIENT_SECRET),
        resource: API,
      }),
      createTokenClient({
        tokenEndpoint,
        clientId: 'svc-post',
        auth: clientSecretPost(POST_SECRET),
        resource: API,
      }),
      createTokenClient({
        tokenEndpoint,
        clientId: 'svc-hmac',
        auth: clientSecretJwt(HMAC_SECRET),
        resource: API,
      }),
      createTokenClient({
        issuer: as.issuer,
        clientId: 'svc-key',
        auth: privateKeyJwt(privateKey, { kid: 'k1' }),
      }),
      createTokenClient({
        tokenEndpoint,
        clientId: CLIENT_ID,
        auth: clientSecretBasic(CLIENT_SECRET),
        resource: OPAQUE_API,
      }),
    ]
    const wrong = createTokenClient({
      tokenEndpoint,
      clientId: 'svc-hmac',
      auth: clientSecretJwt(`${HMAC_SECRET}-wrong`),
    })
    const verifier = createVerifier({ issuer: as.issuer, audience: API })
    const introspecting = createVerifier({
      issuer: as.issuer,
      audience: OPAQUE_API,
      introspection: { clientId: API_CLIENT_ID, auth: clientSecretBasic(API_SECRET) },
    })
    try {
      const tokens = await Promise.all(clients.map(async (client) => (await client.getToken()).accessToken))
      await expect(wrong.getToken()).rejects.toMatchObject({ error: 'invalid_client' })
      await verifier.verify(tokens[0] as string)
      await expect(verifier.verify(`${tokens[1]}x`)).rejects.toThrow()
      await introspecting.verify(tokens[4] as string)
      await expect(introspecting.verify('opaque-token-never-issued')).rejects.toThrow()

      const recorded = await telemetry.everything()
      expect(telemetry.spans().length).toBeGreaterThan(5)
      expect(recorded).toContain('oauth_m2m.server.request.duration')
      for (const secret of [CLIENT_SECRET, POST_SECRET, HMAC_SECRET, API_SECRET, 'opaque-token-never-issued'])
        expect(recorded).not.toContain(secret)
      for (const token of tokens) expect(recorded).not.toContain(token)
      const jtis = tokens.slice(0, 4).map((token) => claimsOf(token).jti as string)
      expect(jtis.every((jti) => typeof jti === 'string' && jti.length > 8)).toBe(true)
      for (const jti of jtis) expect(recorded).not.toContain(jti)
      // No JWT at all: neither an access token nor a client assertion.
      expect(recorded).not.toMatch(/eyJ[\w-]+\.[\w-]+\./)

      const metricAttributes = (await telemetry.metrics()).flatMap((metric) =>
        metric.dataPoints.flatMap((point) => Object.keys(point.attributes)),
      )
      expect(metricAttributes.length).toBeGreaterThan(0)
      expect([...new Set(metricAttributes)].filter((name) => !BOUNDED_METRIC_ATTRIBUTES.has(name))).toEqual(
        [],
      )
    } finally {
      instrumentation.unsubscribe()
      await Promise.all([...clients, wrong].map((client) => client.close()))
      await Promise.all([verifier.close(), introspecting.close()])
      await telemetry.shutdown()
    }
  })
})

describe('unsubscribe()', () => {
  it('stops recording, and can be called twice', async () => {
    const telemetry = createTelemetryRecorder()
    const instrumentation = instrumentOAuthM2M({
      tracerProvider: telemetry.tracerProvider,
      meterProvider: telemetry.meterProvider,
    })
    const client = createTokenClient({
      tokenEndpoint: `${as.issuer}/token`,
      clientId: CLIENT_ID,
      auth: clientSecretBasic(CLIENT_SECRET),
    })
    try {
      await client.getToken()
      expect(telemetry.spans()).toHaveLength(1)
      instrumentation.unsubscribe()
      instrumentation.unsubscribe()
      client.invalidate()
      await client.getToken()
      expect(telemetry.spans()).toHaveLength(1)
      expect(
        await telemetry.count('oauth_m2m.client.cache.lookups', { 'oauth_m2m.cache.result': 'miss' }),
      ).toBe(1)
    } finally {
      await client.close()
      await telemetry.shutdown()
    }
  })

  it('ends the span of a token request still in flight', async () => {
    const telemetry = createTelemetryRecorder()
    const instrumentation = instrumentOAuthM2M({
      tracerProvider: telemetry.tracerProvider,
      meterProvider: telemetry.meterProvider,
    })
    const client = createTokenClient({
      tokenEndpoint: `${as.issuer}/token`,
      clientId: CLIENT_ID,
      auth: clientSecretBasic(CLIENT_SECRET),
    })
    try {
      const pending = client.getToken()
      instrumentation.unsubscribe()
      await pending
      expect(telemetry.spans().map((span) => span.name)).toEqual(['oauth_m2m.client.token_fetch'])
    } finally {
      await client.close()
      await telemetry.shutdown()
    }
  })
})

describe('a failure while recording', () => {
  it('never reaches the application: it goes to the diag logger', async () => {
    const failing: Tracer = {
      startSpan: () => {
        throw new Error('exporter exploded')
      },
      startActiveSpan: () => {
        throw new Error('exporter exploded')
      },
    }
    const tracerProvider: TracerProvider = { getTracer: () => failing }
    const logged: unknown[][] = []
    const logger: DiagLogger = {
      error: (...args) => logged.push(args),
      warn: () => {},
      info: () => {},
      debug: () => {},
      verbose: () => {},
    }
    diag.setLogger(logger, DiagLogLevel.ERROR)
    const uncaught: unknown[] = []
    const onUncaught = (error: unknown) => uncaught.push(error)
    process.on('uncaughtException', onUncaught)
    const instrumentation = instrumentOAuthM2M({ tracerProvider })
    const client = createTokenClient({
      tokenEndpoint: `${as.issuer}/token`,
      clientId: CLIENT_ID,
      auth: clientSecretBasic(CLIENT_SECRET),
    })
    try {
      const token = await client.getToken()
      expect(token.tokenType).toBe('Bearer')
      // diagnostics_channel reports a throwing subscriber on the next tick.
      await new Promise((resolve) => setImmediate(resolve))
      expect(uncaught).toEqual([])
      expect(logged.map(([message]) => message)).toContain(
        '@oauth-m2m/opentelemetry: recording oauth-m2m:client:fetch:start failed',
      )
    } finally {
      instrumentation.unsubscribe()
      process.off('uncaughtException', onUncaught)
      diag.disable()
      await client.close()
    }
  })
})
