/**
 * OpenTelemetry for a service that gets tokens and calls an API: the SDK set up with console
 * exporters, `instrumentOAuthM2M()` once, and then what the oauth-m2m packages do appears as spans
 * and metrics — the token request as a child of the job's span, the cache hit, the API's JWKS fetch
 * and refused call, the authorization server's requests by client and outcome.
 *
 * Run: pnpm --filter @oauth-m2m/example-opentelemetry start
 */
import { pathToFileURL } from 'node:url'
import { clientSecretBasic, createTokenClient } from '@oauth-m2m/client'
import { instrumentOAuthM2M } from '@oauth-m2m/opentelemetry'
import { context, metrics, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import {
  ConsoleMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type PushMetricExporter,
} from '@opentelemetry/sdk-metrics'
import {
  BasicTracerProvider,
  ConsoleSpanExporter,
  SimpleSpanProcessor,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base'
import { startDeployment } from './local-setup.js'

/** Where the example sends what is recorded: the console, unless a test gives other exporters. */
export interface Exporters {
  spans?: SpanExporter
  metrics?: PushMetricExporter
}

/** What the job saw of the API. */
export interface Outcome {
  /** Status of `GET /reports` (allowed) and `DELETE /reports` (a scope the token lacks). */
  statuses: { read: number; delete: number }
}

export async function main(exporters: Exporters = {}): Promise<Outcome> {
  // 1. The OpenTelemetry SDK, as an application sets it up (NodeSDK does the same in one call):
  //    a context manager, so spans nest across awaits, and the tracer and meter providers.
  const contextManager = new AsyncLocalStorageContextManager().enable()
  context.setGlobalContextManager(contextManager)
  const tracerProvider = new BasicTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(exporters.spans ?? new ConsoleSpanExporter())],
  })
  // Exported once, at shutdown: a long-running service would export every minute.
  const reader = new PeriodicExportingMetricReader({
    exporter: exporters.metrics ?? new ConsoleMetricExporter(),
    exportIntervalMillis: 3_600_000,
  })
  const meterProvider = new MeterProvider({ readers: [reader] })
  trace.setGlobalTracerProvider(tracerProvider)
  metrics.setGlobalMeterProvider(meterProvider)

  // 2. The oauth-m2m telemetry: one call, after the SDK.
  const instrumentation = instrumentOAuthM2M()

  // The authorization server publishes its requests on a diagnostics channel: nothing to wire.
  const deployment = await startDeployment()
  const client = createTokenClient({
    issuer: deployment.issuer,
    clientId: deployment.clientId,
    auth: clientSecretBasic(deployment.clientSecret),
    scope: 'reports:read',
    resource: deployment.apiUrl,
  })

  try {
    // 3. The job: its span is the parent of the token request.
    const tracer = trace.getTracer('report-builder')
    return await tracer.startActiveSpan('build nightly report', async (job) => {
      try {
        const read = await client.fetch(`${deployment.apiUrl}/reports`) // token request, then a cache hit
        await read.arrayBuffer()
        const denied = await client.fetch(`${deployment.apiUrl}/reports`, { method: 'DELETE' }) // 403
        await denied.arrayBuffer()
        return { statuses: { read: read.status, delete: denied.status } }
      } finally {
        job.end()
      }
    })
  } finally {
    await client.close()
    await deployment.close()
    instrumentation.unsubscribe()
    // Shutting down exports what is left: the metrics are printed here.
    await tracerProvider.shutdown()
    await meterProvider.shutdown()
    trace.disable()
    metrics.disable()
    context.disable()
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().then(
    ({ statuses }) => console.log(`GET /reports -> ${statuses.read}, DELETE /reports -> ${statuses.delete}`),
    (error: unknown) => {
      console.error(error)
      process.exitCode = 1
    },
  )
}
