/**
 * The reference server's answered requests as telemetry, from its `oauth-m2m:server:request`
 * channel: one duration histogram, by endpoint, method, status, OAuth error and (once
 * authenticated) client.
 *
 * @module server-telemetry
 */
import type { ServerRequestEvent } from '@oauth-m2m/server'
import type { Attributes, Meter } from '@opentelemetry/api'
import { SERVER_CHANNEL_NAMES } from './channel-names.js'
import { DURATION_BUCKETS_SEC, secondsOf } from './durations.js'
import type { Subscription } from './subscription.js'
import { ATTRIBUTE_NAMES, METRIC_NAMES } from './telemetry-names.js'

/** HTTP methods recorded as they are; any other is `_OTHER` (semantic conventions). */
const KNOWN_METHODS = new Set([
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'DELETE',
  'CONNECT',
  'OPTIONS',
  'TRACE',
  'PATCH',
])

/**
 * OAuth errors answered only once the client is authenticated: its id is then a registered one.
 * Any other failure may carry whatever id a caller made up, which would make the attribute
 * unbounded, so it is left out.
 */
const AFTER_AUTHENTICATION = new Set([
  'invalid_scope',
  'invalid_target',
  'unauthorized_client',
  'invalid_grant',
])

/** The listener of the server's request channel, with its instrument. */
export function serverTelemetry(meter: Meter): Subscription[] {
  const duration = meter.createHistogram(METRIC_NAMES.serverRequestDuration, {
    description:
      'Duration of requests answered by the authorization server, by endpoint, client and outcome.',
    unit: 's',
    advice: { explicitBucketBoundaries: [...DURATION_BUCKETS_SEC] },
  })
  return [
    {
      channel: SERVER_CHANNEL_NAMES.request,
      listener: (event: ServerRequestEvent) => {
        const method = event.method.toUpperCase()
        const attributes: Attributes = {
          // The server names the endpoint it routed to; a path it does not serve has none.
          [ATTRIBUTE_NAMES.serverEndpoint]: event.endpoint ?? '_OTHER',
          [ATTRIBUTE_NAMES.httpRequestMethod]: KNOWN_METHODS.has(method) ? method : '_OTHER',
          [ATTRIBUTE_NAMES.httpResponseStatusCode]: event.status,
        }
        const failed = event.status >= 400
        if (event.clientId !== undefined && (!failed || AFTER_AUTHENTICATION.has(event.error ?? ''))) {
          attributes[ATTRIBUTE_NAMES.clientId] = event.clientId
        }
        if (event.authMethod !== undefined) attributes[ATTRIBUTE_NAMES.authMethod] = event.authMethod
        // The OAuth error is the class of failure; a failure without one (a 404, a 500) is its status.
        if (failed) attributes[ATTRIBUTE_NAMES.errorType] = event.error ?? String(event.status)
        duration.record(secondsOf(event.durationMs), attributes)
      },
    },
  ]
}
