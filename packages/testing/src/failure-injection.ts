/**
 * Failures on demand: the next answers of an endpoint (`failNext`), or every answer until
 * `restore()` (`outage`), replaced by an RFC 6749 §5.2 error, a connection reset, or delayed.
 * What a real server does on a bad day, on demand, through msw and a real port alike.
 *
 * @module failure-injection
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { ConfigurationError } from '@oauth-m2m/core'
import { isErrorDescriptionText } from '@oauth-m2m/core/internal'
import { ENDPOINT_KINDS, type EndpointKind } from './endpoint-kinds.js'

/** Longest `delayMs` accepted: a delay is real time, and a test must not hang on it. */
export const MAX_FAILURE_DELAY_MS = 30_000

/** How an injected failure answers. */
export interface FailureAnswer {
  /**
   * HTTP status, 400–599. The body is an RFC 6749 §5.2 error object. Default for `outage`: 503.
   * For `failNext`, leaving it out with `delayMs` gives the server's real answer, late (a slow
   * endpoint).
   */
  status?: number
  /**
   * The `error` code. Default by status: 401 `invalid_client`, 429, 502, 503 and 504
   * `temporarily_unavailable`, any other 5xx `server_error`, any other 4xx `invalid_request`.
   */
  error?: string
  /** The `error_description`. Default: a sentence saying the failure was injected. */
  errorDescription?: string
  /** Sent as the `Retry-After` header, in seconds (a non-negative integer). Default: none. */
  retryAfterSec?: number
  /**
   * Real milliseconds (not the test clock) to wait before answering, at most
   * {@link MAX_FAILURE_DELAY_MS}; ends early when the caller gives up or the server closes.
   * Default 0.
   */
  delayMs?: number
  /**
   * Resets the connection instead of answering (after `delayMs`): the client sees a network
   * error. Excludes `status`, `error`, `errorDescription` and `retryAfterSec`. Default `false`.
   */
  reset?: boolean
}

/** Options of `failNext`. */
export interface FailNextOptions extends FailureAnswer {
  /** The endpoint whose next answers fail. */
  endpoint: EndpointKind
  /** How many of its next requests fail (a positive integer). Default 1. */
  times?: number
}

/** Options of `outage`: how every answer fails until `restore()`. Default: 503 `temporarily_unavailable`. */
export type OutageOptions = FailureAnswer

/** A checked failure, ready to apply to a request. */
export interface InjectedFailure {
  /** The answer's status; `undefined` for a reset, or for a late real answer (`delayMs` alone). */
  readonly status: number | undefined
  /** The `error` code; `undefined`: the default for the status ({@link defaultErrorFor}). */
  readonly error: string | undefined
  /** The `error_description`, the test's or a sentence saying the failure was injected. */
  readonly errorDescription: string
  /** The `Retry-After` header in seconds; `undefined`: none. */
  readonly retryAfterSec: number | undefined
  /** Real milliseconds to wait before answering (0: at once). */
  readonly delayMs: number
  /** Whether the connection is reset instead of answered. */
  readonly reset: boolean
}

function fail(call: string, member: string, rule: string): never {
  throw new ConfigurationError(`@oauth-m2m/testing: ${call}: ${member} ${rule}`)
}

function checkEndpoint(call: string, endpoint: unknown): EndpointKind {
  if (!ENDPOINT_KINDS.includes(endpoint as EndpointKind)) {
    fail(call, 'endpoint', `must be one of ${ENDPOINT_KINDS.join(', ')}`)
  }
  return endpoint as EndpointKind
}

function checkAnswer(
  call: string,
  answer: FailureAnswer,
  defaultStatus: number | undefined,
): InjectedFailure {
  if (typeof answer !== 'object' || answer === null) fail(call, 'options', 'must be an object')
  const { status, error, errorDescription, retryAfterSec, delayMs = 0, reset = false } = answer
  if (typeof reset !== 'boolean') fail(call, 'reset', 'must be a boolean')
  if (
    reset &&
    (status !== undefined ||
      error !== undefined ||
      errorDescription !== undefined ||
      retryAfterSec !== undefined)
  ) {
    fail(call, 'reset', 'answers nothing, so it takes no status, error, errorDescription or retryAfterSec')
  }
  if (status !== undefined && (!Number.isInteger(status) || status < 400 || status > 599)) {
    fail(call, 'status', 'must be an integer from 400 to 599')
  }
  if (error !== undefined && (typeof error !== 'string' || error === '' || !isErrorDescriptionText(error))) {
    fail(call, 'error', 'must be a non-empty RFC 6749 error code (printable ASCII without " or \\)')
  }
  if (
    errorDescription !== undefined &&
    (typeof errorDescription !== 'string' || !isErrorDescriptionText(errorDescription))
  ) {
    fail(
      call,
      'errorDescription',
      'must be RFC 6749 error_description text (printable ASCII without " or \\)',
    )
  }
  if (retryAfterSec !== undefined && (!Number.isSafeInteger(retryAfterSec) || retryAfterSec < 0)) {
    fail(call, 'retryAfterSec', 'must be a non-negative integer')
  }
  if (!Number.isFinite(delayMs) || delayMs < 0 || delayMs > MAX_FAILURE_DELAY_MS) {
    fail(call, 'delayMs', `must be from 0 to ${MAX_FAILURE_DELAY_MS}`)
  }
  const effectiveStatus = reset ? undefined : (status ?? defaultStatus)
  if (!reset && effectiveStatus === undefined && delayMs === 0) {
    fail(call, 'options', 'need a status, reset: true or a delayMs')
  }
  if (
    effectiveStatus === undefined &&
    (error !== undefined || errorDescription !== undefined || retryAfterSec !== undefined)
  ) {
    fail(call, 'status', 'is needed with error, errorDescription or retryAfterSec')
  }
  return Object.freeze({
    status: effectiveStatus,
    error,
    errorDescription: errorDescription ?? `failure injected by the test server (${call})`,
    retryAfterSec,
    delayMs,
    reset,
  })
}

/** The RFC 6749 §5.2 `error` a status means when the test names none. */
export function defaultErrorFor(status: number): string {
  if (status === 401) return 'invalid_client'
  if (status === 429 || status === 502 || status === 503 || status === 504) return 'temporarily_unavailable'
  return status >= 500 ? 'server_error' : 'invalid_request'
}

/**
 * The answer of an injected failure with a status: an RFC 6749 §5.2 JSON error object, never
 * cached, with `Retry-After` when asked for, and the `WWW-Authenticate: Basic` challenge RFC 6749
 * §5.2 requires for a 401 to a client that authenticated with Basic.
 */
export function failureResponse(
  failure: InjectedFailure & { status: number },
  request: Request,
  realm: string,
): Response {
  const headers = new Headers({
    'content-type': 'application/json',
    'cache-control': 'no-store',
    pragma: 'no-cache',
  })
  if (failure.retryAfterSec !== undefined) headers.set('retry-after', String(failure.retryAfterSec))
  if (failure.status === 401 && /^basic /i.test(request.headers.get('authorization') ?? '')) {
    headers.set('www-authenticate', `Basic realm="${realm}", charset="UTF-8"`)
  }
  const body =
    request.method === 'HEAD'
      ? null
      : JSON.stringify({
          error: failure.error ?? defaultErrorFor(failure.status),
          error_description: failure.errorDescription,
        })
  return new Response(body, { status: failure.status, headers })
}

/**
 * Waits `delayMs` of real time, or less when `signal` aborts.
 *
 * @returns `false` when the wait was cut short.
 */
export async function waitFailureDelay(delayMs: number, signal: AbortSignal): Promise<boolean> {
  if (delayMs === 0) return !signal.aborted
  try {
    await sleep(delayMs, undefined, { signal })
    return true
  } catch {
    return false
  }
}

/** The failures planned for one server's endpoints. */
export class FailureInjector {
  readonly #queued = new Map<EndpointKind, { failure: InjectedFailure; remaining: number }[]>()
  readonly #outages = new Map<EndpointKind, InjectedFailure>()

  /**
   * Makes the next `times` requests to `options.endpoint` fail as described (after failures
   * already queued for it).
   *
   * @throws {ConfigurationError} naming the first invalid member.
   */
  failNext(options: FailNextOptions): void {
    if (typeof options !== 'object' || options === null) fail('failNext', 'options', 'must be an object')
    const { endpoint, times = 1, ...answer } = options
    const kind = checkEndpoint('failNext', endpoint)
    if (!Number.isSafeInteger(times) || times < 1) fail('failNext', 'times', 'must be a positive integer')
    const failure = checkAnswer('failNext', answer, undefined)
    const queue = this.#queued.get(kind) ?? []
    queue.push({ failure, remaining: times })
    this.#queued.set(kind, queue)
  }

  /**
   * Makes every request to `endpoint` fail as described until {@link restore} (requests planned
   * by `failNext` fail their way first). A second outage of the same endpoint replaces the first.
   *
   * @throws {ConfigurationError} naming the first invalid member.
   */
  outage(endpoint: EndpointKind, options: OutageOptions = {}): void {
    const kind = checkEndpoint('outage', endpoint)
    this.#outages.set(kind, checkAnswer('outage', options, 503))
  }

  /**
   * Ends the outage and drops the failures still queued, of `endpoint` or, without one, of every
   * endpoint.
   *
   * @throws {ConfigurationError} when `endpoint` is not an endpoint kind.
   */
  restore(endpoint?: EndpointKind): void {
    if (endpoint === undefined) {
      this.#queued.clear()
      this.#outages.clear()
      return
    }
    const kind = checkEndpoint('restore', endpoint)
    this.#queued.delete(kind)
    this.#outages.delete(kind)
  }

  /** The failure for a request to `endpoint` arriving now (a queued one is used up), if any. */
  take(endpoint: EndpointKind): InjectedFailure | undefined {
    const queue = this.#queued.get(endpoint)
    const next = queue?.[0]
    if (queue !== undefined && next !== undefined) {
      next.remaining -= 1
      if (next.remaining === 0) queue.shift()
      if (queue.length === 0) this.#queued.delete(endpoint)
      return next.failure
    }
    return this.#outages.get(endpoint)
  }
}
