/**
 * The client's channels as telemetry: a `CLIENT` span per token request (retries and back-offs as
 * its events), the token-fetch duration histogram, and counters of retries, cache lookups,
 * background refreshes, store failures and back-offs. A cached `getToken` costs one counter add.
 *
 * @module client-telemetry
 */
import type {
  BackoffMessage,
  CacheMessage,
  FetchEndMessage,
  FetchErrorMessage,
  FetchRetryMessage,
  FetchStartMessage,
  StoreErrorMessage,
} from '@oauth-m2m/client'
import {
  type Attributes,
  context,
  type Meter,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api'
import { CLIENT_CHANNEL_NAMES } from './channel-names.js'
import { ClientKeyAttributes } from './client-key.js'
import { DURATION_BUCKETS_SEC, secondsOf } from './durations.js'
import { errorType, tokenErrorType } from './error-type.js'
import { serverAttributes } from './server-endpoint.js'
import type { Subscription } from './subscription.js'
import { ATTRIBUTE_NAMES, EVENT_NAMES, METRIC_NAMES, SPAN_NAMES } from './telemetry-names.js'

/** A token request in flight: its span and whether it refreshes a stale token. */
interface OpenFetch {
  span: Span
  background: boolean
}

/** Token requests in flight, by cache key (several clients with one key may fetch at once). */
class OpenFetches {
  readonly #byKey = new Map<string, OpenFetch[]>()

  add(key: string, fetch: OpenFetch): void {
    const open = this.#byKey.get(key)
    if (open === undefined) this.#byKey.set(key, [fetch])
    else open.push(fetch)
  }

  /** The oldest request of `key` still open, without closing it. */
  peek(key: string): OpenFetch | undefined {
    return this.#byKey.get(key)?.[0]
  }

  /** Closes the oldest request of `key`: a single flight ends in the order it started. */
  take(key: string): OpenFetch | undefined {
    const open = this.#byKey.get(key)
    const fetch = open?.shift()
    if (open?.length === 0) this.#byKey.delete(key)
    return fetch
  }

  /** Every request still open; forgets them. */
  drain(): OpenFetch[] {
    const all = [...this.#byKey.values()].flat()
    this.#byKey.clear()
    return all
  }
}

/** Subscriptions to the client's channels, and what to do with the spans still open at the end. */
export interface ClientTelemetry {
  subscriptions: Subscription[]
  /** Ends the spans of token requests still in flight (called when unsubscribing). */
  endOpenSpans(): void
}

const CACHE_RESULT = ATTRIBUTE_NAMES.cacheResult

/** The instruments of the client's telemetry, and the listeners that record to them. */
export function clientTelemetry(tracer: Tracer, meter: Meter): ClientTelemetry {
  const keys = new ClientKeyAttributes()
  const open = new OpenFetches()
  const fetchDuration = meter.createHistogram(METRIC_NAMES.tokenFetchDuration, {
    description: 'Duration of token requests to the authorization server, retries and discovery included.',
    unit: 's',
    advice: { explicitBucketBoundaries: [...DURATION_BUCKETS_SEC] },
  })
  const retries = meter.createCounter(METRIC_NAMES.tokenFetchRetries, {
    description: 'Failed attempts of token requests that were retried.',
    unit: '{retry}',
  })
  const lookups = meter.createCounter(METRIC_NAMES.cacheLookups, {
    description: 'Lookups of the token cache by getToken, by result (hit, stale, miss).',
    unit: '{lookup}',
  })
  const refreshes = meter.createCounter(METRIC_NAMES.refreshes, {
    description: 'Background refreshes of stale tokens, finished; error.type is set on those that failed.',
    unit: '{refresh}',
  })
  const storeErrors = meter.createCounter(METRIC_NAMES.storeErrors, {
    description: 'Failures of the shared token store, which was bypassed.',
    unit: '{error}',
  })
  const backoffs = meter.createCounter(METRIC_NAMES.backoffs, {
    description: 'Times the authorization server asked the client to back off (429 or 503 with Retry-After).',
    unit: '{backoff}',
  })

  const lookup = (result: 'hit' | 'stale' | 'miss') => (message: CacheMessage) => {
    lookups.add(1, { ...keys.of(message.key), [CACHE_RESULT]: result })
  }

  const subscriptions: Subscription[] = [
    { channel: CLIENT_CHANNEL_NAMES.cacheHit, listener: lookup('hit') },
    { channel: CLIENT_CHANNEL_NAMES.cacheStale, listener: lookup('stale') },
    { channel: CLIENT_CHANNEL_NAMES.cacheMiss, listener: lookup('miss') },
    {
      channel: CLIENT_CHANNEL_NAMES.fetchStart,
      listener: (message: FetchStartMessage) => {
        const attributes: Attributes = {
          [ATTRIBUTE_NAMES.clientId]: message.clientId,
          ...serverAttributes(message.server),
          [ATTRIBUTE_NAMES.background]: message.background,
          [ATTRIBUTE_NAMES.scopes]: [...message.scopes],
          [ATTRIBUTE_NAMES.resources]: [...message.resources],
          [ATTRIBUTE_NAMES.audiences]: [...message.audiences],
        }
        const active = context.active()
        // A background refresh outlives the call that noticed the stale token: its own trace,
        // linked to that call's span.
        const caller = trace.getSpanContext(active)
        const span = message.background
          ? tracer.startSpan(
              SPAN_NAMES.tokenFetch,
              { kind: SpanKind.CLIENT, attributes, root: true, links: caller ? [{ context: caller }] : [] },
              active,
            )
          : tracer.startSpan(SPAN_NAMES.tokenFetch, { kind: SpanKind.CLIENT, attributes }, active)
        open.add(message.key, { span, background: message.background })
      },
    },
    {
      channel: CLIENT_CHANNEL_NAMES.fetchRetry,
      listener: (message: FetchRetryMessage) => {
        const type = errorType(message.error)
        retries.add(1, { ...keys.of(message.key), [ATTRIBUTE_NAMES.errorType]: type })
        open.peek(message.key)?.span.addEvent(EVENT_NAMES.tokenFetchRetry, {
          [ATTRIBUTE_NAMES.retryAttempt]: message.attempt,
          [ATTRIBUTE_NAMES.retryDelay]: secondsOf(message.delayMs),
          [ATTRIBUTE_NAMES.errorType]: type,
        })
      },
    },
    {
      channel: CLIENT_CHANNEL_NAMES.fetchEnd,
      listener: (message: FetchEndMessage) => {
        const fetch = open.take(message.key)
        const attributes = {
          ...keys.of(message.key),
          [ATTRIBUTE_NAMES.background]: fetch?.background ?? false,
        }
        fetchDuration.record(secondsOf(message.durationMs), attributes)
        if (fetch?.background) refreshes.add(1, keys.of(message.key))
        if (fetch !== undefined) {
          fetch.span.setAttribute(ATTRIBUTE_NAMES.attempts, message.attempts)
          fetch.span.end()
        }
      },
    },
    {
      channel: CLIENT_CHANNEL_NAMES.fetchError,
      listener: (message: FetchErrorMessage) => {
        const fetch = open.take(message.key)
        const type = tokenErrorType(message.oauthError, message.error)
        const failed = { ...keys.of(message.key), [ATTRIBUTE_NAMES.errorType]: type }
        const status: Attributes =
          message.status === undefined ? {} : { [ATTRIBUTE_NAMES.httpResponseStatusCode]: message.status }
        fetchDuration.record(secondsOf(message.durationMs), {
          ...failed,
          ...status,
          [ATTRIBUTE_NAMES.background]: fetch?.background ?? false,
        })
        if (fetch?.background) refreshes.add(1, failed)
        if (fetch !== undefined) {
          fetch.span.setAttributes({
            [ATTRIBUTE_NAMES.attempts]: message.attempts,
            [ATTRIBUTE_NAMES.errorType]: type,
            ...status,
          })
          // The message of an oauth-m2m error never holds a credential (their contract).
          fetch.span.setStatus({ code: SpanStatusCode.ERROR, message: message.error.message })
          fetch.span.end()
        }
      },
    },
    {
      channel: CLIENT_CHANNEL_NAMES.storeError,
      listener: (message: StoreErrorMessage) => {
        storeErrors.add(1, {
          ...keys.of(message.key),
          [ATTRIBUTE_NAMES.storeOperation]: message.operation,
          [ATTRIBUTE_NAMES.errorType]: errorType(message.error),
        })
      },
    },
    {
      channel: CLIENT_CHANNEL_NAMES.backoff,
      listener: (message: BackoffMessage) => {
        const status = { [ATTRIBUTE_NAMES.httpResponseStatusCode]: message.status }
        backoffs.add(1, { ...keys.of(message.key), ...status })
        open.peek(message.key)?.span.addEvent(EVENT_NAMES.backoff, status)
      },
    },
  ]

  return {
    subscriptions,
    endOpenSpans() {
      for (const { span } of open.drain()) span.end()
    },
  }
}
