/**
 * The exchange every OAuth endpoint a client calls shares: a form-encoded POST (RFC 6749 §3.2,
 * RFC 7662 §2.1, RFC 7009 §2.1) carrying the client's credentials, answered with JSON; and the
 * reading of an RFC 6749 §5.2 error answer. Token requests, introspection and test minting send
 * through here, so client authentication, credential scrubbing and the error rule are written once.
 *
 * @module authenticated-form-post
 */
import { performance } from 'node:perf_hooks'
import { abortable } from './abortable.js'
import { applyClientAuth } from './client-auth/apply-client-auth.js'
import type { ClientAuthContext, ClientAuthStrategy } from './client-auth/types.js'
import { HttpError, type OAuthM2MError, OAuthResponseError, TimeoutError } from './errors.js'
import {
  DEFAULT_REQUEST_TIMEOUT_MS,
  type JsonRequestOptions,
  type JsonResponse,
  requestJson,
} from './json-request.js'
import type { Redactor } from './redaction.js'

/** Options of {@link postAuthenticatedForm}: the client's credentials, and the exchange's limits. */
export interface AuthenticatedFormPostOptions
  extends Pick<
    JsonRequestOptions,
    'dispatcher' | 'timeoutMs' | 'signal' | 'maxBodyBytes' | 'purpose' | 'now'
  > {
  /**
   * How the client authenticates. A mutual-TLS strategy (one with `tls`) has the request sent
   * through an undici `Agent` presenting its certificate, unless `dispatcher` is given: that one
   * must then present the certificate itself.
   */
  auth: ClientAuthStrategy
  /** Who is calling and where: the strategy builds assertions from it. */
  context: ClientAuthContext
  /**
   * Other strings of the form that must never be repeated from the answer, such as the token an
   * introspection or revocation request carries. The client's credentials are always scrubbed.
   */
  sensitive?: readonly string[]
}

/** A JSON answer to an authenticated form POST. */
export interface AuthenticatedFormAnswer extends JsonResponse {
  /** Scrubs the credentials this request sent from any text taken from the answer. */
  redactor: Redactor
}

/**
 * POSTs `form` to `url` with the client's credentials added by `options.auth`, and returns the
 * JSON answer of any status with a {@link Redactor} for the credentials that were sent.
 * `options.timeoutMs` (default 10 000) bounds the whole exchange, from client authentication (a
 * secret function, an assertion source) to the last byte of the answer.
 *
 * @throws {HttpError} when the answer is not JSON or too large.
 * @throws {TimeoutError} when client authentication or the exchange outlasts `timeoutMs`.
 * @throws {NetworkError} from the exchange, or the signal's reason.
 */
export async function postAuthenticatedForm(
  url: string,
  form: URLSearchParams,
  options: AuthenticatedFormPostOptions,
): Promise<AuthenticatedFormAnswer> {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' }
  // One time limit covers the whole exchange, client authentication included: a secret or
  // assertion source is the user's code and may hang (a vault that never answers).
  const timeoutMs = options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS
  const started = performance.now()
  const limit = AbortSignal.timeout(Math.max(1, Math.ceil(timeoutMs)))
  let redactor: Redactor
  try {
    redactor = await abortable(
      applyClientAuth(options.auth, { headers, body: form }, options.context, options.sensitive),
      options.signal ? AbortSignal.any([options.signal, limit]) : limit,
    )
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason
    if (limit.aborted) {
      throw new TimeoutError(
        `client authentication for the ${options.purpose ?? 'server'} did not complete within ${timeoutMs} ms`,
        timeoutMs,
      )
    }
    throw error
  }
  // Loaded with undici only for a mutual-TLS strategy: others send through the given or global dispatcher.
  const dispatcher =
    options.dispatcher === undefined && options.auth.tls !== undefined
      ? (await import('./client-auth/tls-client-dispatcher.js')).tlsClientDispatcher(options.auth.tls)
      : options.dispatcher
  const answer = await requestJson(url, {
    method: 'POST',
    headers,
    body: form.toString(),
    redactor,
    timeoutMs: Math.max(0, timeoutMs - (performance.now() - started)),
    ...(options.maxBodyBytes !== undefined ? { maxBodyBytes: options.maxBodyBytes } : {}),
    ...(options.purpose !== undefined ? { purpose: options.purpose } : {}),
    ...(options.now !== undefined ? { now: options.now } : {}),
    ...(dispatcher ? { dispatcher } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  })
  return { ...answer, redactor }
}

function optionalString(body: Record<string, unknown>, name: string): string | undefined {
  const value = body[name]
  return typeof value === 'string' ? value : undefined
}

/**
 * The error an unsuccessful answer stands for: an {@link OAuthResponseError} when the body is an
 * RFC 6749 §5.2 error object (`error` a non-empty string), else an {@link HttpError}. Every string
 * taken from the answer goes through `redactor` first: a server may echo the credentials it was
 * sent.
 *
 * @param purpose - What was called, for the `HttpError` message (e.g. `token endpoint`).
 */
export function errorFromAnswer(
  answer: Pick<JsonResponse, 'status' | 'body' | 'retryAfterMs'>,
  redactor: Redactor,
  purpose: string,
): OAuthM2MError {
  const { status, body, retryAfterMs } = answer
  if (typeof body === 'object' && body !== null && !Array.isArray(body)) {
    const fields = body as Record<string, unknown>
    if (typeof fields.error === 'string' && fields.error !== '') {
      return new OAuthResponseError({
        error: redactor.redact(fields.error),
        errorDescription: redactor.redact(optionalString(fields, 'error_description')),
        errorUri: redactor.redact(optionalString(fields, 'error_uri')),
        status,
        retryAfterMs,
      })
    }
  }
  return new HttpError(`${purpose} answered ${status} without an OAuth error object`, {
    status,
    retryAfterMs,
  })
}
