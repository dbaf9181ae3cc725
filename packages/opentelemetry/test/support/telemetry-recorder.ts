/**
 * The OpenTelemetry SDK with in-memory exporters, as a test reads it: spans as they end, metrics
 * on demand (a collection through the reader, exported to an `InMemoryMetricExporter`).
 */
import type { Attributes } from '@opentelemetry/api'
import {
  AggregationTemporality,
  type DataPoint,
  type Histogram,
  InMemoryMetricExporter,
  MeterProvider,
  type MetricData,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics'
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base'

export interface TelemetryRecorder {
  tracerProvider: BasicTracerProvider
  meterProvider: MeterProvider
  /** Spans ended so far. */
  spans(name?: string): ReadableSpan[]
  /** Every metric recorded so far (cumulative). */
  metrics(): Promise<MetricData[]>
  /** The data points of one metric; none when it was never recorded. */
  points(name: string): Promise<DataPoint<number | Histogram>[]>
  /** Sum of a counter's points whose attributes include `match`. */
  count(name: string, match?: Attributes): Promise<number>
  /** Histogram points whose attributes include `match`. */
  histogram(name: string, match?: Attributes): Promise<DataPoint<Histogram>[]>
  /** Everything recorded, spans and metrics, as one string: what a leak test searches. */
  everything(): Promise<string>
  shutdown(): Promise<void>
}

const includes = (attributes: Attributes, match: Attributes) =>
  Object.entries(match).every(([key, value]) => JSON.stringify(attributes[key]) === JSON.stringify(value))

export function createTelemetryRecorder(): TelemetryRecorder {
  const spanExporter = new InMemorySpanExporter()
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spanExporter)] })
  const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE)
  // Exports only when asked: the interval is longer than any test.
  const reader = new PeriodicExportingMetricReader({
    exporter: metricExporter,
    exportIntervalMillis: 3_600_000,
  })
  const meterProvider = new MeterProvider({ readers: [reader] })

  const metrics = async () => {
    metricExporter.reset()
    await reader.forceFlush()
    return metricExporter
      .getMetrics()
      .flatMap((resource) => resource.scopeMetrics.flatMap((scope) => scope.metrics))
  }
  const points = async (name: string): Promise<DataPoint<number | Histogram>[]> =>
    (await metrics())
      .filter((metric) => metric.descriptor.name === name)
      .flatMap((metric) => metric.dataPoints as DataPoint<number | Histogram>[])

  return {
    tracerProvider,
    meterProvider,
    spans: (name) =>
      spanExporter.getFinishedSpans().filter((span) => name === undefined || span.name === name),
    metrics,
    points,
    async count(name, match = {}) {
      return (await points(name))
        .filter((point) => includes(point.attributes, match))
        .reduce((sum, point) => sum + (point.value as number), 0)
    },
    async histogram(name, match = {}) {
      return (await points(name)).filter((point) =>
        includes(point.attributes, match),
      ) as DataPoint<Histogram>[]
    },
    async everything() {
      const spans = spanExporter.getFinishedSpans().map((span) => ({
        name: span.name,
        attributes: span.attributes,
        events: span.events,
        status: span.status,
        links: span.links,
      }))
      return JSON.stringify({ spans, metrics: await metrics() })
    },
    async shutdown() {
      await Promise.all([tracerProvider.shutdown(), meterProvider.shutdown()])
    },
  }
}
