/**
 * One HTTP exchange over undici that expects a JSON answer, with a time limit, caller
 * cancellation and a cap on the body size. Shared by discovery, the JWKS cache, the token client
 * and introspection so that each gets the same, typed failure modes.
 *
 * @module json-request
 */
import type { Dispatcher } from 'undici'
import { HttpError, NetworkError, TimeoutError } from './errors.js'
import { NO_REDACTION, type Redactor } from './redaction.js'
import { parseRetryAfter } from './retry-after.js'

/** Options of {@link requestJson}. */
export interface JsonRequestOptions {
  /** HTTP method. Default `GET`, or `POST` when a body is given. */
  method?: 'GET' | 'POST'
  /** Request headers. `accept: application/json` is added unless given. */
  headers?: Record<string, string>
  /** Request body, sent as is. */
  body?: string
  /** undici dispatcher to send through. Default: undici's global dispatcher. */
  dispatcher?: Dispatcher
  /** Time limit for the whole exchange, headers and body, in milliseconds. Default 10 000. */
  timeoutMs?: number
  /** Cancels the exchange; the signal's reason is thrown as is. */
  signal?: AbortSignal
  /** Largest accepted response body, in bytes. Default 1 MiB. */
  maxBodyBytes?: number
  /** What the request is for, used in error messages (e.g. `token endpoint`). Default `server`. */
  purpose?: string
  /**
   * Scrubs the request's credentials from server text quoted in errors (the content type), from
   * `applyClientAuth`. Default: nothing is scrubbed.
   */
  redactor?: Redactor
  /** Clock for a `Retry-After` given as an HTTP date, epoch ms. Default `Date.now`. */
  now?: () => number
}

/** A JSON answer, of any status. */
export interface JsonResponse {
  /** HTTP status. */
  status: number
  /** Response headers, lower-cased names. */
  headers: Record<string, string | string[] | undefined>
  /** The parsed JSON body. */
  body: unknown
  /** `Retry-After` converted to milliseconds, when present and valid. */
  retryAfterMs: number | undefined
}

/** Default time limit of {@link requestJson}, in milliseconds. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000
/** Default body-size cap of {@link requestJson}, in bytes. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024

/**
 * undici's `request`, loaded on the first request rather than at import: undici is the largest
 * part of an import of the packages, and a verifier with static keys or a server whose clients
 * have no `jwks_uri` never sends one.
 */
let undiciRequest: Promise<typeof import('undici').request> | undefined

function loadRequest(): Promise<typeof import('undici').request> {
  undiciRequest ??= import('undici').then((undici) => undici.request)
  return undiciRequest
}

/** Returns the first value of a header as a string. */
export function headerValue(
  headers: Record<string, string | string[] | undefined>,
  name: string,
): string | undefined {
  const v = headers[name]
  return Array.isArray(v) ? v[0] : v
}

function isJsonContentType(contentType: string | undefined): boolean {
  if (!contentType) return false
  const mime = contentType.split(';', 1)[0]!.trim().toLowerCase()
  return mime === 'application/json' || (mime.startsWith('application/') && mime.endsWith('+json'))
}

/**
 * Stops reading a body we will not use. undici's body emits `RequestAbortedError` when destroyed
 * before its end; without a listener that error would crash the process.
 */
function discard(body: Dispatcher.ResponseData['body']): void {
  body.on('error', () => {})
  body.destroy()
}

/**
 * What went wrong with the connection, as a plain error: name, code and message of undici's error
 * and nothing else. undici's HTTP parser errors keep the rest of the raw response in `data`, and a
 * server may echo there what it was sent, so the live error never becomes a cause.
 */
function connectionFailure(err: unknown, redactor: Redactor): Error {
  if (!(err instanceof Error)) return new Error('the connection failed')
  const failure = new Error(redactor.redact(err.message))
  failure.name = err.name
  if ('code' in err && typeof err.code === 'string') Object.assign(failure, { code: err.code })
  return failure
}

/**
 * Sends one request and parses the answer as JSON, whatever its status.
 *
 * @throws {TimeoutError} when `timeoutMs` passes first.
 * @throws {NetworkError} when no response arrives (refused, reset, DNS).
 * @throws {HttpError} when the body is not JSON (wrong content type, malformed, empty) or is larger
 *   than `maxBodyBytes`; carries the status and `Retry-After`.
 * @throws the reason of `signal` when it aborts.
 */
export async function requestJson(
  url: string | URL,
  options: JsonRequestOptions = {},
): Promise<JsonResponse> {
  // AbortSignal.timeout takes whole milliseconds only; a computed budget (deadline − now) is not.
  const timeoutMs = Math.max(0, Math.ceil(options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS))
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES
  const purpose = options.purpose ?? 'server'
  const timeout = AbortSignal.timeout(timeoutMs)
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout

  const fail = (err: unknown): never => {
    if (options.signal?.aborted) throw options.signal.reason
    if (timeout.aborted) {
      throw new TimeoutError(`${purpose} did not answer within ${timeoutMs} ms`, timeoutMs)
    }
    if (err instanceof HttpError) throw err
    const detail = err instanceof Error && 'code' in err ? ` (${String(err.code)})` : ''
    throw new NetworkError(`request to ${purpose} failed${detail}`, {
      cause: connectionFailure(err, options.redactor ?? NO_REDACTION),
    })
  }

  let res: Dispatcher.ResponseData
  try {
    const request = await loadRequest()
    res = await request(url, {
      method: options.method ?? (options.body === undefined ? 'GET' : 'POST'),
      headers: { accept: 'application/json', ...options.headers },
      body: options.body,
      signal,
      ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
    })
  } catch (err) {
    return fail(err)
  }

  const retryAfterMs = parseRetryAfter(headerValue(res.headers, 'retry-after'), (options.now ?? Date.now)())
  const contentType = headerValue(res.headers, 'content-type')
  const status = res.statusCode
  const declared = Number(headerValue(res.headers, 'content-length'))
  if (!isJsonContentType(contentType) || declared > maxBodyBytes) {
    discard(res.body)
    const why = isJsonContentType(contentType)
      ? `a body larger than ${maxBodyBytes} bytes`
      : `content type ${(options.redactor ?? NO_REDACTION).redact(contentType ?? '(none)')}, not JSON`
    throw new HttpError(`${purpose} answered ${status} with ${why}`, { status, retryAfterMs })
  }

  const chunks: Buffer[] = []
  let size = 0
  try {
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      size += chunk.length
      if (size > maxBodyBytes) {
        discard(res.body)
        throw new HttpError(`${purpose} answered ${status} with a body larger than ${maxBodyBytes} bytes`, {
          status,
          retryAfterMs,
        })
      }
      chunks.push(chunk)
    }
  } catch (err) {
    return fail(err)
  }

  let body: unknown
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8'))
  } catch {
    throw new HttpError(`${purpose} answered ${status} with malformed JSON`, { status, retryAfterMs })
  }
  return { status, headers: res.headers, body, retryAfterMs }
}
