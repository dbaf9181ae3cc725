import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import {
  AggregationTemporality,
  type DataPoint,
  type Histogram,
  InMemoryMetricExporter,
} from '@opentelemetry/sdk-metrics'
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base'
import { describe, expect, it } from 'vitest'
import { main } from '../src/main.js'

const root = fileURLToPath(new URL('../../..', import.meta.url))

/** Keeps its spans when the example shuts the SDK down (the SDK's own empties itself then). */
class KeptSpans extends InMemorySpanExporter {
  override shutdown(): Promise<void> {
    return Promise.resolve()
  }
}

describe('example: opentelemetry', () => {
  it("records the job's token request, cache, the API's verdicts and the server's requests", async () => {
    const spans = new KeptSpans()
    const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE)

    const outcome = await main({ spans, metrics: metricExporter })

    expect(outcome.statuses).toEqual({ read: 200, delete: 403 })
    const finished = spans.getFinishedSpans()
    const job = finished.find((span) => span.name === 'build nightly report')
    const fetches = finished.filter((span) => span.name === 'oauth_m2m.client.token_fetch')
    expect(fetches).toHaveLength(1)
    expect(fetches[0]?.parentSpanContext?.spanId).toBe(job?.spanContext().spanId)
    expect(fetches[0]?.attributes['oauth_m2m.client.id']).toBe('report-builder')

    // Exported once, at shutdown.
    const points = (name: string) =>
      metricExporter
        .getMetrics()
        .flatMap((resource) => resource.scopeMetrics.flatMap((scope) => scope.metrics))
        .filter((metric) => metric.descriptor.name === name)
        .flatMap((metric) => metric.dataPoints as DataPoint<number | Histogram>[])
    const lookups = points('oauth_m2m.client.cache.lookups').map((p) => [
      p.attributes['oauth_m2m.cache.result'],
      p.value,
    ])
    expect(lookups).toEqual([
      ['miss', 1],
      ['hit', 1],
    ])
    expect(
      points('oauth_m2m.verifier.verifications').map((p) => [
        p.attributes['oauth_m2m.verification.result'],
        p.attributes['error.type'],
        p.value,
      ]),
    ).toEqual([
      ['success', undefined, 1],
      ['failure', 'ERR_INSUFFICIENT_SCOPE', 1],
    ])
    expect(
      points('oauth_m2m.jwks.fetch.duration').map((p) => [
        p.attributes['oauth_m2m.jwks.reason'],
        (p.value as Histogram).count,
      ]),
    ).toEqual([['initial', 1]])
    expect(points('oauth_m2m.jwks.fetches').map((p) => p.attributes['oauth_m2m.jwks.reason'])).toEqual([
      'initial',
    ])
    const tokenRequests = points('oauth_m2m.server.request.duration').filter(
      (p) => p.attributes['oauth_m2m.server.endpoint'] === 'token',
    )
    expect(tokenRequests.map((p) => p.attributes)).toEqual([
      {
        'oauth_m2m.server.endpoint': 'token',
        'http.request.method': 'POST',
        'http.response.status_code': 200,
        'oauth_m2m.client.id': 'report-builder',
        'oauth_m2m.client.auth_method': 'client_secret_basic',
      },
    ])
  })

  // Starting tsx on the TypeScript sources takes seconds on a loaded machine; the bound is generous.
  it('as a script, prints the spans and metrics with the console exporters and exits by itself', {
    timeout: 60_000,
  }, async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '--conditions=@oauth-m2m/source', 'examples/opentelemetry/src/main.ts'],
      { cwd: root, timeout: 50_000 },
    )

    for (const name of [
      'oauth_m2m.client.token_fetch',
      'build nightly report',
      'oauth_m2m.client.token_fetch.duration',
      'oauth_m2m.client.cache.lookups',
      'oauth_m2m.verifier.verifications',
      'oauth_m2m.verifier.verification.duration',
      'oauth_m2m.jwks.fetches',
      'oauth_m2m.jwks.fetch.duration',
      'oauth_m2m.server.request.duration',
    ]) {
      expect(stdout).toContain(`name: '${name}'`)
    }
    expect(stdout).toContain('GET /reports -> 200, DELETE /reports -> 403')
  })
})
