/**
 * The request log of a test server: what clients sent (method, path, form parameters, how they
 * authenticated, as whom) and what they were answered, with every secret, assertion and token
 * redacted, so a test asserts "exactly one token request" without a proxy.
 *
 * @module request-log
 */
import { ConfigurationError } from '@oauth-m2m/core'
import { decodeBasicCredentials, REDACTED } from '@oauth-m2m/core/internal'
import { decodeProtectedHeader } from 'jose/decode/protected_header'
import { decodeJwt } from 'jose/jwt/decode'
import { bodyParameters } from './body-parameters.js'
import type { EndpointKind } from './endpoint-kinds.js'
import type { BoundedBody } from './request-body.js'

/** How a logged request authenticated its client, as far as the request shows it. */
export type LoggedAuthMethod =
  | 'client_secret_basic'
  | 'client_secret_post'
  | 'client_secret_jwt'
  | 'private_key_jwt'
  | 'none'

/** One request a test server answered. */
export interface LoggedRequest {
  /** The endpoint asked, or `'other'` for a path that is none of the server's endpoints. */
  readonly endpoint: EndpointKind | 'other'
  /** HTTP method, upper case. */
  readonly method: string
  /** The URL's path, without the query. */
  readonly path: string
  /**
   * The query's parameters, then those of an `application/x-www-form-urlencoded` body or of a JSON
   * object body (Auth0's token requests; strings, numbers and booleans as their text): one string
   * per name, or a list when a name was repeated (e.g. `resource`). A body over the server's
   * `maxBodyBytes` is not read. Secrets are replaced by
   * `'[redacted]'`: `client_secret`, `client_assertion`, `token`, every parameter whose name
   * contains `secret`, `passw` or `credential` or ends in `assertion`, `token`, `key`, `code` or
   * `verifier` (`client_assertion_type` and `token_type_hint` stay readable), every value shaped
   * like a JWT or equal to the request's Basic password, and, in any parameter but `grant_type`,
   * `scope`, `resource`, `audience`, `client_id`, `client_assertion_type` and `token_type_hint`,
   * every value that looks like a credential (16 or more base64url/hex-like characters with both
   * letters and digits, e.g. an opaque token).
   */
  readonly params: Readonly<Record<string, string | readonly string[]>>
  /**
   * The client authentication the request used: Basic credentials, a `client_secret` parameter,
   * a client assertion (HMAC-signed: `client_secret_jwt`, else `private_key_jwt`), or only a
   * `client_id` (`none`). `undefined` when it carried no client authentication (metadata, JWKS).
   */
  readonly authMethod: LoggedAuthMethod | undefined
  /** The client id the request named (Basic user, `client_id`, or the assertion's `sub`). */
  readonly clientId: string | undefined
  /** When the request arrived, by the test server's clock (epoch milliseconds). */
  readonly timeMs: number
  /** The answer's status; `undefined` when the connection was reset instead of answered. */
  readonly status: number | undefined
}

/**
 * Which entries `takeRequests` takes: those matching every member given (partial match), or those
 * the predicate accepts. Without a filter: all of them.
 */
export type RequestFilter =
  | Partial<Pick<LoggedRequest, 'endpoint' | 'clientId' | 'method'>>
  | ((entry: LoggedRequest) => boolean)

/**
 * Most entries a request log keeps: past it the oldest are dropped, so a long suite (or a load
 * loop) against one server cannot grow it without bound. Take what you assert on as you go.
 */
export const REQUEST_LOG_MAX_ENTRIES = 1000

/** Parameter names that carry a credential or a token, whatever else is in the name. */
const SECRET_NAME = /secret|passw|credential|(^|_)(assertion|token|key|code|verifier)$/i
/** A compact JWS (three segments) or JWE (five). */
const COMPACT_JOSE = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]*){2}$|^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]*){4}$/
/** What an opaque token or a generated secret looks like: long, unbroken, letters and digits. */
const CREDENTIAL_LIKE = /^(?=.*[0-9])(?=.*[A-Za-z])[A-Za-z0-9._~+/=-]{16,}$/
/** Parameters whose values are protocol vocabulary, shown unless they hold a JWT. */
const PUBLIC_NAMES: ReadonlySet<string> = new Set([
  'grant_type',
  'scope',
  'resource',
  'audience',
  'client_id',
  'client_assertion_type',
  'token_type_hint',
])
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'

/** What the log keeps of a request before its answer is known. */
export type RequestDescription = Omit<LoggedRequest, 'status' | 'timeMs'>

function redact(name: string, value: string, basicSecret: string | undefined): string {
  if (SECRET_NAME.test(name) || COMPACT_JOSE.test(value) || value === basicSecret) return REDACTED
  return !PUBLIC_NAMES.has(name) && CREDENTIAL_LIKE.test(value) ? REDACTED : value
}

function authOf(
  authorization: string | null,
  params: ReadonlyMap<string, readonly string[]>,
): {
  authMethod: LoggedAuthMethod | undefined
  clientId: string | undefined
  basicSecret: string | undefined
} {
  const formClientId = params.get('client_id')?.[0]
  if (authorization !== null && /^basic /i.test(authorization)) {
    const basic = decodeBasicCredentials(authorization)
    return basic.ok
      ? { authMethod: 'client_secret_basic', clientId: basic.clientId, basicSecret: basic.clientSecret }
      : { authMethod: 'client_secret_basic', clientId: formClientId, basicSecret: undefined }
  }
  const assertion = params.get('client_assertion')?.[0]
  if (assertion !== undefined && params.get('client_assertion_type')?.[0] === ASSERTION_TYPE) {
    let authMethod: LoggedAuthMethod | undefined
    let clientId = formClientId
    try {
      authMethod = decodeProtectedHeader(assertion).alg?.startsWith('HS')
        ? 'client_secret_jwt'
        : 'private_key_jwt'
      clientId ??= decodeJwt(assertion).sub
    } catch {
      // Not a JWT: the server refuses it; the log cannot tell the method.
    }
    return { authMethod, clientId, basicSecret: undefined }
  }
  if (params.has('client_secret'))
    return { authMethod: 'client_secret_post', clientId: formClientId, basicSecret: undefined }
  if (formClientId !== undefined)
    return { authMethod: 'none', clientId: formClientId, basicSecret: undefined }
  return { authMethod: undefined, clientId: undefined, basicSecret: undefined }
}

/**
 * What the log records of `request`.
 *
 * @param body Its body as the router read it; one over the limit is left out (the server refuses
 *   it anyway).
 */
export function describeRequest(
  request: Request,
  endpoint: EndpointKind | 'other',
  body: BoundedBody | undefined,
): RequestDescription {
  const url = new URL(request.url)
  const all = new Map<string, string[]>()
  const add = (name: string, value: string) => {
    const list = all.get(name)
    if (list) list.push(value)
    else all.set(name, [value])
  }
  for (const [name, value] of url.searchParams) add(name, value)
  for (const [name, values] of bodyParameters(request.headers.get('content-type'), body) ?? [])
    for (const v of values) add(name, v)
  const { authMethod, clientId, basicSecret } = authOf(request.headers.get('authorization'), all)
  const params: Record<string, string | readonly string[]> = {}
  for (const [name, values] of all) {
    const redacted = values.map((value) => redact(name, value, basicSecret))
    params[name] = redacted.length === 1 ? (redacted[0] as string) : Object.freeze(redacted)
  }
  return {
    endpoint,
    method: request.method.toUpperCase(),
    path: url.pathname,
    params: Object.freeze(params),
    authMethod,
    clientId,
  }
}

function matches(entry: LoggedRequest, filter: RequestFilter | undefined): boolean {
  if (filter === undefined) return true
  if (typeof filter === 'function') return filter(entry)
  return (
    (filter.endpoint === undefined || filter.endpoint === entry.endpoint) &&
    (filter.clientId === undefined || filter.clientId === entry.clientId) &&
    (filter.method === undefined || filter.method.toUpperCase() === entry.method)
  )
}

/** The bounded, ordered log of one server (or one listener's issuers). */
export class RequestLog {
  #entries: LoggedRequest[] = []

  /** The entries, oldest first, in the order their answers were sent. */
  get entries(): readonly LoggedRequest[] {
    return Object.freeze([...this.#entries])
  }

  /** Records an answered request; drops the oldest entry past {@link REQUEST_LOG_MAX_ENTRIES}. */
  add(entry: LoggedRequest): void {
    this.#entries.push(Object.freeze(entry))
    if (this.#entries.length > REQUEST_LOG_MAX_ENTRIES) this.#entries.shift()
  }

  /** Removes and returns the entries `filter` matches, oldest first. */
  take(filter?: RequestFilter): LoggedRequest[] {
    if (
      filter !== undefined &&
      typeof filter !== 'function' &&
      (typeof filter !== 'object' || filter === null)
    ) {
      throw new ConfigurationError(
        '@oauth-m2m/testing: takeRequests takes an object of fields to match or a predicate',
      )
    }
    const taken: LoggedRequest[] = []
    const kept: LoggedRequest[] = []
    for (const entry of this.#entries) (matches(entry, filter) ? taken : kept).push(entry)
    this.#entries = kept
    return taken
  }
}
