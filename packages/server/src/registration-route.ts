/**
 * What the registration endpoints (RFC 7591/7592) share on the wire: a route whose JSON body the
 * adapters read like a form route's (bounded by `maxBodyBytes`), the bearer token of the request,
 * the JSON body, and the error answers (RFC 7591 §3.2.2, RFC 6750 §3 for a refused token; 503 when
 * the store cannot answer).
 *
 * @module registration-route
 */
import { toErrorDescription } from '@oauth-m2m/core/internal'
import { STORE_RETRY_AFTER_SEC } from './guarded-store.js'
import { type EndpointResponse, noStoreJson } from './http-response.js'
import { type FormRequest, FormRoute } from './server-core.js'

/** Error codes of the registration endpoints: RFC 7591 §3.2.2, RFC 6750 §3.1, and the general ones. */
export type RegistrationErrorCode =
  | 'invalid_client_metadata'
  | 'invalid_redirect_uri'
  | 'invalid_software_statement'
  | 'unapproved_software_statement'
  | 'invalid_token'
  | 'invalid_request'
  | 'temporarily_unavailable'
  | 'server_error'

/** A JSON error answer `{error, error_description}`, never stored by caches. */
export function registrationError(
  status: number,
  error: RegistrationErrorCode,
  description: string,
  extraHeaders?: Record<string, string>,
): EndpointResponse {
  // Descriptions are this package's own text (field names, never values): reduced to the RFC 6749
  // §5.2 character set only as a guard.
  return noStoreJson(
    status,
    JSON.stringify({ error, error_description: toErrorDescription(description) }),
    extraHeaders,
  )
}

/**
 * A store call of a registration request failed (rejected, or the store is full): answered 503
 * `temporarily_unavailable`, never 500.
 */
export class StoreCallFailed extends Error {
  /** When to try again, epoch ms; `undefined`: after the server's usual store back-off. */
  readonly retryAtMs: number | undefined

  constructor(retryAtMs?: number, options?: ErrorOptions) {
    super('a store call of the registration endpoint failed', options)
    this.name = 'StoreCallFailed'
    this.retryAtMs = retryAtMs
  }
}

/** Runs one store call, turning its rejection into {@link StoreCallFailed}. */
export async function storeCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call()
  } catch (error) {
    throw new StoreCallFailed(undefined, { cause: error })
  }
}

/** Answers a registration request. Rejects only for a fault of the server (a 500). */
export type RegistrationHandler = (request: FormRequest) => Promise<EndpointResponse>

/** The handler of a form route, never called: a {@link JsonBodyRoute} answers in `handle`. */
function notAForm(): EndpointResponse {
  throw new Error('a JSON route has no form handler')
}

/**
 * A registration route. The adapters read a {@link FormRoute}'s body within `maxBodyBytes` and hand
 * it over; this one reads the body as JSON instead of a form.
 */
export class JsonBodyRoute extends FormRoute {
  readonly #handler: RegistrationHandler
  readonly #onInternalError: (error: unknown) => void
  readonly #now: () => number

  constructor(handler: RegistrationHandler, onInternalError: (error: unknown) => void, now: () => number) {
    super(notAForm, onInternalError)
    this.#handler = handler
    this.#onInternalError = onInternalError
    this.#now = now
  }

  /** Answers the request; never rejects (a store failure becomes a 503, a fault a 500). */
  override handle(request: FormRequest): Promise<EndpointResponse> {
    let answer: Promise<EndpointResponse>
    try {
      answer = this.#handler(request)
    } catch (error) {
      answer = Promise.reject(error)
    }
    return answer.catch((error: unknown) => this.#fault(error))
  }

  #fault(error: unknown): EndpointResponse {
    try {
      this.#onInternalError(error)
    } catch {
      // A failing logger must not turn an answer into an unhandled rejection.
    }
    if (error instanceof StoreCallFailed) {
      const now = this.#now()
      const retryAtMs = error.retryAtMs ?? now + STORE_RETRY_AFTER_SEC * 1000
      const retryAfterSec = Math.max(1, Math.ceil((retryAtMs - now) / 1000))
      return registrationError(
        503,
        'temporarily_unavailable',
        'the client store cannot answer now; retry later',
        {
          'retry-after': String(retryAfterSec),
        },
      )
    }
    return registrationError(500, 'server_error', 'internal error')
  }
}

/** The outcome of reading a request's bearer token: the token, none, or the 400 to answer. */
export type BearerResult =
  | { token: string | undefined; error?: undefined }
  | { token?: undefined; error: EndpointResponse }

/** RFC 6750 §2.1: `Bearer` (any case), one or more spaces, a b64token. */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i

/**
 * The bearer token of the request's one `Authorization` header. Several headers (a web `Headers`
 * object joins them with ", ") are refused, as Node and a proxy could read different ones; another
 * scheme, or a malformed value, counts as a wrong token (`''`).
 */
export function bearerToken(authorization: readonly string[]): BearerResult {
  if (authorization.length === 0) return { token: undefined }
  if (authorization.length > 1 || authorization[0]!.includes(',')) {
    return {
      error: registrationError(
        400,
        'invalid_request',
        'the request holds more than one Authorization header',
      ),
    }
  }
  return { token: BEARER.exec(authorization[0]!)?.[1] ?? '' }
}

/**
 * 401 for a missing or refused bearer token (RFC 6750 §3): `WWW-Authenticate: Bearer` with
 * `error="invalid_token"` when a token was sent, without an error code when none was.
 */
export function refusedToken(realm: string, sent: boolean, description: string): EndpointResponse {
  const challenge = sent
    ? `Bearer realm="${realm}", error="invalid_token", error_description="${toErrorDescription(description)}"`
    : `Bearer realm="${realm}"`
  return registrationError(401, 'invalid_token', description, { 'www-authenticate': challenge })
}

const JSON_TYPE = 'application/json'

function isJsonContentType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false
  const [mediaType, ...params] = contentType.split(';')
  if (mediaType?.trim().toLowerCase() !== JSON_TYPE) return false
  return params.every((param) => {
    const [name, value] = param.split('=')
    return (
      name?.trim().toLowerCase() !== 'charset' || value?.trim().replace(/"/g, '').toLowerCase() === 'utf-8'
    )
  })
}

/** Deepest nesting accepted in a registration body; client metadata needs four levels (jwks). */
const MAX_JSON_DEPTH = 16

/** Whether `value` nests deeper than `limit`, checked without recursion. */
function nestsDeeperThan(value: unknown, limit: number): boolean {
  const pending: [unknown, number][] = [[value, 1]]
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [item, depth] = next
    if (typeof item !== 'object' || item === null) continue
    if (depth > limit) return true
    for (const child of Object.values(item)) pending.push([child, depth + 1])
  }
  return false
}

/** The outcome of reading a JSON body: the object, or the error to answer. */
export type JsonBodyResult =
  | { body: Record<string, unknown>; error?: undefined }
  | { body?: undefined; error: EndpointResponse }

/** The request's body as a JSON object (`application/json`, UTF-8), or 415/400. */
export function readJsonBody(request: FormRequest): JsonBodyResult {
  if (!isJsonContentType(request.contentType)) {
    return {
      error: registrationError(415, 'invalid_request', 'the request body must be application/json (UTF-8)', {
        'accept-post': JSON_TYPE,
      }),
    }
  }
  let body: unknown
  try {
    body = JSON.parse(request.body)
  } catch {
    return { error: registrationError(400, 'invalid_request', 'the request body is not valid JSON') }
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return {
      error: registrationError(
        400,
        'invalid_client_metadata',
        'the request body must be a JSON object of client metadata',
      ),
    }
  }
  if (nestsDeeperThan(body, MAX_JSON_DEPTH)) {
    return {
      error: registrationError(400, 'invalid_client_metadata', 'the client metadata nests too deeply'),
    }
  }
  return { body: body as Record<string, unknown> }
}
