/**
 * Without options, the instrumentation records to the providers registered globally, as the
 * OpenTelemetry SDK (NodeSDK) registers them. In a file of its own: it sets global state.
 */
import { readFileSync } from 'node:fs'
import { clientSecretBasic, createTokenClient } from '@oauth-m2m/client'
import { metrics, trace } from '@opentelemetry/api'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { INSTRUMENTATION_SCOPE, instrumentOAuthM2M } from '../src/index.js'
import { CLIENT_ID, CLIENT_SECRET, type ReferenceServer, startReferenceServer } from './support/servers.js'
import { createTelemetryRecorder } from './support/telemetry-recorder.js'

let as: ReferenceServer
beforeAll(async () => {
  as = await startReferenceServer()
})
afterAll(async () => {
  await as.close()
})

it('records to the global tracer and meter providers, under the package name and version', async () => {
  const telemetry = createTelemetryRecorder()
  trace.setGlobalTracerProvider(telemetry.tracerProvider)
  metrics.setGlobalMeterProvider(telemetry.meterProvider)
  const instrumentation = instrumentOAuthM2M()
  const client = createTokenClient({
    tokenEndpoint: `${as.issuer}/token`,
    clientId: CLIENT_ID,
    auth: clientSecretBasic(CLIENT_SECRET),
  })
  try {
    await client.getToken()

    const [span] = telemetry.spans('oauth_m2m.client.token_fetch')
    const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      version: string
    }
    expect(span?.instrumentationScope).toMatchObject({ name: INSTRUMENTATION_SCOPE, version })
    expect(INSTRUMENTATION_SCOPE).toBe('@oauth-m2m/opentelemetry')
    const [metric] = (await telemetry.metrics()).filter(
      (m) => m.descriptor.name === 'oauth_m2m.client.token_fetch.duration',
    )
    expect(metric?.dataPoints).toHaveLength(1)
  } finally {
    instrumentation.unsubscribe()
    await client.close()
    await telemetry.shutdown()
    trace.disable()
    metrics.disable()
  }
})
