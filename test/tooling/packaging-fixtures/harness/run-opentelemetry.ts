/**
 * The @oauth-m2m/opentelemetry quickstart: the OpenTelemetry SDK registered globally with in-memory
 * exporters (what `NodeSDK.start()` does with real ones), then the quickstart's client against its
 * issuer; what was recorded is the verdict.
 */
import { metrics, trace } from '@opentelemetry/api'
import {
  AggregationTemporality,
  type DataPoint,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { runQuickstart, startWorld } from './world.js'

const spans = new InMemorySpanExporter()
trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }))
const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE)
const reader = new PeriodicExportingMetricReader({
  exporter: metricExporter,
  exportIntervalMillis: 3_600_000,
})
metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }))

const world = await startWorld({
  issuer: 'https://as.example.com',
  clientId: 'service-a',
  clientSecret: 'quickstart-secret-of-service-a',
  scope: 'read:things',
  resources: [],
  apis: [],
})
process.env.CLIENT_SECRET = 'quickstart-secret-of-service-a'
await runQuickstart(async () => {
  // The quickstart has ended: its cache lookups, by result.
  await reader.forceFlush()
  const points = metricExporter
    .getMetrics()
    .flatMap((resource) => resource.scopeMetrics.flatMap((scope) => scope.metrics))
    .filter((metric) => metric.descriptor.name === 'oauth_m2m.client.cache.lookups')
    .flatMap((metric) => metric.dataPoints as DataPoint<number>[])
  return {
    spans: spans.getFinishedSpans().map((span) => span.name),
    lookups: Object.fromEntries(
      points.map((point) => [String(point.attributes['oauth_m2m.cache.result']), point.value]),
    ),
  }
})
await world.close()
