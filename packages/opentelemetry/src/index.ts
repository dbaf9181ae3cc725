/**
 * `@oauth-m2m/opentelemetry`: OpenTelemetry spans and metrics for the oauth-m2m packages, recorded
 * from their `node:diagnostics_channel` channels. Call {@link instrumentOAuthM2M} once, after the
 * OpenTelemetry SDK has started.
 *
 * @packageDocumentation
 */
export {
  INSTRUMENTATION_SCOPE,
  type InstrumentOAuthM2MOptions,
  instrumentOAuthM2M,
  type OAuthM2MInstrumentation,
} from './instrument.js'
export { ATTRIBUTE_NAMES, EVENT_NAMES, METRIC_NAMES, SPAN_NAMES } from './telemetry-names.js'
