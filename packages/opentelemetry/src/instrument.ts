/**
 * `instrumentOAuthM2M`: subscribes to the diagnostics channels of every oauth-m2m package and
 * records what they publish as OpenTelemetry spans and metrics.
 *
 * @module instrument
 */
import { createRequire } from 'node:module'
import { type MeterProvider, metrics, type TracerProvider, trace } from '@opentelemetry/api'
import { clientTelemetry } from './client-telemetry.js'
import { serverTelemetry } from './server-telemetry.js'
import { subscribeAll } from './subscription.js'
import { verifierTelemetry } from './verifier-telemetry.js'

/** Options of {@link instrumentOAuthM2M}; every one is optional. */
export interface InstrumentOAuthM2MOptions {
  /**
   * Where spans go. Default: the global tracer provider (`trace.getTracerProvider()`), which may
   * also be registered after this call.
   */
  tracerProvider?: TracerProvider
  /**
   * Where metrics go. Default: the global meter provider (`metrics.getMeterProvider()`) as it is
   * when this is called: start the OpenTelemetry SDK first, or metrics go to the no-op provider.
   */
  meterProvider?: MeterProvider
}

/** What {@link instrumentOAuthM2M} returns: the way to stop recording. */
export interface OAuthM2MInstrumentation {
  /**
   * Stops listening to the channels and ends the spans of token requests still in flight.
   * Calling it again does nothing.
   */
  unsubscribe(): void
}

/** The instrumentation scope (`otel.scope.name`) of every span and metric recorded here. */
export const INSTRUMENTATION_SCOPE = '@oauth-m2m/opentelemetry'

/** Read at run time, so the scope version follows the package's release without a copy to update. */
const { version } = createRequire(import.meta.url)('../package.json') as { version: string }

/**
 * Records the telemetry of the oauth-m2m packages in this process as OpenTelemetry spans and
 * metrics: token requests, cache lookups, refreshes and retries of `@oauth-m2m/client`; refused
 * verifications and introspection calls of `@oauth-m2m/verifier`; JWKS fetches; requests
 * answered by `@oauth-m2m/server`. It listens on their `node:diagnostics_channel` channels, so it
 * needs no reference to any client, verifier or server and covers every one in the process,
 * created before or after this call.
 *
 * ```ts
 * import { instrumentOAuthM2M } from '@oauth-m2m/opentelemetry'
 *
 * const instrumentation = instrumentOAuthM2M() // after the OpenTelemetry SDK has started
 * // … at shutdown:
 * instrumentation.unsubscribe()
 * ```
 *
 * What is recorded never holds a token, secret or assertion, and metric attributes are bounded
 * (client id, server host and port, error code; never a token id). A failure while recording is
 * reported to OpenTelemetry's `diag` logger and never reaches the application. Each call
 * subscribes anew: call it once per process.
 */
export function instrumentOAuthM2M(options: InstrumentOAuthM2MOptions = {}): OAuthM2MInstrumentation {
  const tracerProvider = options.tracerProvider ?? trace.getTracerProvider()
  const meterProvider = options.meterProvider ?? metrics.getMeterProvider()
  const tracer = tracerProvider.getTracer(INSTRUMENTATION_SCOPE, version)
  const meter = meterProvider.getMeter(INSTRUMENTATION_SCOPE, version)
  const client = clientTelemetry(tracer, meter)
  const unsubscribe = subscribeAll([
    ...client.subscriptions,
    ...verifierTelemetry(tracer, meter),
    ...serverTelemetry(meter),
  ])
  return {
    unsubscribe() {
      unsubscribe()
      client.endOpenSpans()
    },
  }
}
