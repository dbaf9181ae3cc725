/**
 * The reference server's answered requests as telemetry: one duration histogram, by endpoint,
 * method, status, OAuth error and (once authenticated) client. The server reports its requests
 * through its `onRequest` hook rather than a diagnostics channel, so the host passes
 * {@link ServerTelemetry.record} there.
 *
 * @module server-telemetry
 */
import type { Attributes, Meter } from '@opentelemetry/api'
import { DURATION_BUCKETS_SEC, secondsOf } from './durations.js'
import { ATTRIBUTE_NAMES, METRIC_NAMES } from './telemetry-names.js'

/**
 * One answered request, as `@oauth-m2m/server`'s `onRequest` hook hands it over (its
 * `RequestLogEntry`): the fields read here, written out so that this package's types do not
 * require the server to be installed.
 */
export interface ServerRequestEntry {
  /** The HTTP method. */
  method: string
  /** The request path, without the query. */
  path: string
  /** The HTTP status of the answer. */
  status: number
  /** The OAuth `error` code of an error answer. */
  error?: string
  /** The client the request named (authenticated unless the answer is `invalid_client`). */
  clientId?: string
  /** How the request tried to authenticate its client. */
  authMethod?: string
  /** Duration, in milliseconds. */
  durationMs: number
}

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

/** The server's endpoints by the last segment of their default paths. */
const ENDPOINTS: Readonly<Record<string, string>> = {
  token: 'token',
  introspect: 'introspection',
  revoke: 'revocation',
  jwks: 'jwks',
  'oauth-authorization-server': 'metadata',
  'openid-configuration': 'metadata',
  register: 'registration',
  healthz: 'health',
  readyz: 'health',
}

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

function endpointOf(path: string): string {
  const segment = path.slice(path.lastIndexOf('/') + 1)
  return Object.hasOwn(ENDPOINTS, segment) ? (ENDPOINTS[segment] as string) : '_OTHER'
}

/** Records what the server's `onRequest` hook reports. */
export class ServerTelemetry {
  readonly #duration
  #recording = true

  constructor(meter: Meter) {
    this.#duration = meter.createHistogram(METRIC_NAMES.serverRequestDuration, {
      description:
        'Duration of requests answered by the authorization server, by endpoint, client and outcome.',
      unit: 's',
      advice: { explicitBucketBoundaries: [...DURATION_BUCKETS_SEC] },
    })
  }

  /** Records one answered request; does nothing once {@link ServerTelemetry.stop} was called. */
  readonly record = (entry: ServerRequestEntry): void => {
    if (!this.#recording) return
    const method = entry.method.toUpperCase()
    const attributes: Attributes = {
      [ATTRIBUTE_NAMES.serverEndpoint]: endpointOf(entry.path),
      [ATTRIBUTE_NAMES.httpRequestMethod]: KNOWN_METHODS.has(method) ? method : '_OTHER',
      [ATTRIBUTE_NAMES.httpResponseStatusCode]: entry.status,
    }
    const failed = entry.status >= 400
    if (entry.clientId !== undefined && (!failed || AFTER_AUTHENTICATION.has(entry.error ?? ''))) {
      attributes[ATTRIBUTE_NAMES.clientId] = entry.clientId
    }
    if (entry.authMethod !== undefined) attributes[ATTRIBUTE_NAMES.authMethod] = entry.authMethod
    // The OAuth error is the class of failure; a failure without one (a 404, a 500) is its status.
    if (failed) attributes[ATTRIBUTE_NAMES.errorType] = entry.error ?? String(entry.status)
    this.#duration.record(secondsOf(entry.durationMs), attributes)
  }

  /** Stops recording: the hook may stay installed in a server that outlives the instrumentation. */
  stop(): void {
    this.#recording = false
  }
}
