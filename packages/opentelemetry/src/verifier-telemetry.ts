/**
 * The verifier's channels and core's JWKS channels as telemetry: a counter and a duration histogram
 * of `verify()` outcomes (by result, source and error code), a `CLIENT` span and a duration
 * histogram per introspection call, and a counter and a duration histogram of JWKS fetches. A
 * refused token and a JWKS fetch are also added as events to the span active where they happen,
 * typically the resource server's request span.
 *
 * @module verifier-telemetry
 */
import type { JwksErrorEvent, JwksFetchEvent } from '@oauth-m2m/core'
import type { IntrospectionEvent, RejectionEvent, VerificationEvent } from '@oauth-m2m/verifier'
import { type Attributes, type Meter, SpanKind, SpanStatusCode, type Tracer, trace } from '@opentelemetry/api'
import { JWKS_CHANNEL_NAMES, VERIFIER_CHANNEL_NAMES } from './channel-names.js'
import { DURATION_BUCKETS_SEC, secondsOf } from './durations.js'
import { errorType } from './error-type.js'
import { serverAttributes } from './server-endpoint.js'
import type { Subscription } from './subscription.js'
import { ATTRIBUTE_NAMES, EVENT_NAMES, METRIC_NAMES, SPAN_NAMES } from './telemetry-names.js'

/** Adds an event to the span active where the package published, when one is recording. */
function addEventToActiveSpan(name: string, attributes: Attributes): void {
  const span = trace.getActiveSpan()
  if (span?.isRecording()) span.addEvent(name, attributes)
}

/** The listeners of the verifier's and the JWKS cache's channels, with their instruments. */
export function verifierTelemetry(tracer: Tracer, meter: Meter): Subscription[] {
  const verifications = meter.createCounter(METRIC_NAMES.verifications, {
    description:
      'Outcomes of verify(), by result (success, failure), source (jwt, introspection), cache, and error code (error.type) of a failure.',
    unit: '{token}',
  })
  const verificationDuration = meter.createHistogram(METRIC_NAMES.verificationDuration, {
    description: 'Duration of verify(), by result, source, cache and error code.',
    unit: 's',
    advice: { explicitBucketBoundaries: [...DURATION_BUCKETS_SEC] },
  })
  const introspectionDuration = meter.createHistogram(METRIC_NAMES.introspectionDuration, {
    description: 'Duration of RFC 7662 introspection calls, by outcome (active, inactive, error).',
    unit: 's',
    advice: { explicitBucketBoundaries: [...DURATION_BUCKETS_SEC] },
  })
  const jwksFetches = meter.createCounter(METRIC_NAMES.jwksFetches, {
    description: 'JWKS fetches by reason; error.type is set on those that failed.',
    unit: '{fetch}',
  })
  const jwksFetchDuration = meter.createHistogram(METRIC_NAMES.jwksFetchDuration, {
    description: 'Duration of JWKS fetches, by reason; error.type is set on those that failed.',
    unit: 's',
    advice: { explicitBucketBoundaries: [...DURATION_BUCKETS_SEC] },
  })

  return [
    {
      channel: VERIFIER_CHANNEL_NAMES.verification,
      listener: (event: VerificationEvent) => {
        const attributes: Attributes = {
          [ATTRIBUTE_NAMES.verificationResult]: event.outcome,
          [ATTRIBUTE_NAMES.verificationCached]: event.cached,
        }
        if (event.source !== undefined) attributes[ATTRIBUTE_NAMES.verificationSource] = event.source
        if (event.outcome === 'failure') {
          attributes[ATTRIBUTE_NAMES.errorType] = event.code ?? '_OTHER'
          if (event.error !== undefined) attributes[ATTRIBUTE_NAMES.oauthError] = event.error
        }
        verifications.add(1, attributes)
        verificationDuration.record(secondsOf(event.durationMs), attributes)
      },
    },
    {
      // Counted on the verification channel; here only the event on the request's span.
      channel: VERIFIER_CHANNEL_NAMES.rejection,
      listener: (event: RejectionEvent) => {
        addEventToActiveSpan(EVENT_NAMES.rejection, {
          [ATTRIBUTE_NAMES.errorType]: event.code,
          [ATTRIBUTE_NAMES.oauthError]: event.error,
        })
      },
    },
    {
      channel: VERIFIER_CHANNEL_NAMES.introspection,
      listener: (event: IntrospectionEvent) => {
        const attributes: Attributes = {
          ...serverAttributes(event.endpoint),
          [ATTRIBUTE_NAMES.introspectionOutcome]: event.outcome,
        }
        if (event.status !== undefined) attributes[ATTRIBUTE_NAMES.httpResponseStatusCode] = event.status
        if (event.outcome === 'error') attributes[ATTRIBUTE_NAMES.errorType] = errorType(event.error)
        introspectionDuration.record(secondsOf(event.durationMs), attributes)
        // Published when the call is over: the span is drawn from its measured start.
        const endTime = performance.timeOrigin + performance.now()
        const span = tracer.startSpan(SPAN_NAMES.introspection, {
          kind: SpanKind.CLIENT,
          attributes,
          startTime: endTime - event.durationMs,
        })
        if (event.outcome === 'error') {
          span.setStatus({
            code: SpanStatusCode.ERROR,
            message: event.error?.message ?? 'introspection failed',
          })
        }
        span.end(endTime)
      },
    },
    {
      channel: JWKS_CHANNEL_NAMES.fetch,
      listener: (event: JwksFetchEvent) => {
        const attributes = { ...serverAttributes(event.jwksUri), [ATTRIBUTE_NAMES.jwksReason]: event.reason }
        jwksFetches.add(1, attributes)
        jwksFetchDuration.record(secondsOf(event.durationMs), attributes)
        addEventToActiveSpan(EVENT_NAMES.jwksFetch, {
          ...attributes,
          [ATTRIBUTE_NAMES.jwksKeyCount]: event.keyCount,
        })
      },
    },
    {
      channel: JWKS_CHANNEL_NAMES.error,
      listener: (event: JwksErrorEvent) => {
        const attributes = {
          ...serverAttributes(event.jwksUri),
          [ATTRIBUTE_NAMES.errorType]: errorType(event.error),
        }
        jwksFetches.add(1, attributes)
        jwksFetchDuration.record(secondsOf(event.durationMs), attributes)
        addEventToActiveSpan(EVENT_NAMES.jwksError, attributes)
      },
    },
  ]
}
