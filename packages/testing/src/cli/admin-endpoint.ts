/**
 * The admin endpoint of `m2m-test-server`: the test server's conveniences over HTTP for suites
 * that are not written for Node (register a client, mint a token, move the clock, fail the next
 * request, read the request log). JSON in and out; bad input gets a 4xx naming what is wrong.
 *
 * It listens on its own loopback port, so none of its paths can meet the issuer's (a provider
 * profile puts the issuer under any path) and its calls stay out of the server's request log. It
 * answers only requests whose `Host` is a loopback name (no DNS rebinding) and POSTs that say
 * `application/json` (no cross-site form posts from a browser on the same machine).
 *
 * @module cli/admin-endpoint
 */
import { randomUUID } from 'node:crypto'
import { ConfigurationError, OAuthResponseError } from '@oauth-m2m/core'
import { isLoopbackHostname } from '@oauth-m2m/core/internal'
import { mediaTypeOf } from '../body-parameters.js'
import { ENDPOINT_KINDS, type EndpointKind } from '../endpoint-kinds.js'
import type { FailNextOptions, OutageOptions } from '../failure-injection.js'
import { INVALID_TOKEN_KINDS, type InvalidTokenKind } from '../invalid-tokens.js'
import { type BoundedBody, DEFAULT_MAX_BODY_BYTES, readBoundedBody } from '../request-body.js'
import type { RequestFilter } from '../request-log.js'
import type { StartedAuthorizationServer } from '../start-authorization-server.js'
import type { TestClientMetadata } from '../test-clients.js'
import { startTestListener, type TestListener } from '../test-listener.js'
import type { MintTokenOptions } from '../token-minting.js'
import type { DevServerInfo } from './dev-server-info.js'
import { clientSecretLabel } from './dev-server-options.js'
import { seededClientId, seededSecret } from './seeded-values.js'

/** The path every admin resource lives under. */
export const ADMIN_PATH = '/_admin'

/** Largest request body the admin endpoint reads, in bytes: the server's default limit. */
export const ADMIN_MAX_BODY_BYTES = DEFAULT_MAX_BODY_BYTES

/** What the admin endpoint acts on. */
export interface AdminEndpointOptions {
  /** The running test server. */
  readonly server: StartedAuthorizationServer
  /** The `--seed`: clients registered here get seeded ids and secrets. Default: random ones. */
  readonly seed?: string | undefined
  /** What `GET /_admin` answers. */
  readonly info: () => DevServerInfo
}

/** A 4xx answer, thrown by the checks and turned into JSON by the handler. */
class AdminRequestError extends Error {
  /** HTTP status of the answer. */
  readonly status: number
  /** The answer's `error` code. */
  readonly error: string
  /** Extra answer headers (`Allow` for a 405). */
  readonly headers: Readonly<Record<string, string>>

  constructor(status: number, error: string, description: string, headers: Record<string, string> = {}) {
    super(description)
    this.status = status
    this.error = error
    this.headers = headers
  }
}

type Body = Readonly<Record<string, unknown>>
type Action = (body: Body) => Promise<Response> | Response

function json(status: number, value: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(value), {
    status,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers },
  })
}

function noContent(): Response {
  return new Response(null, { status: 204, headers: { 'cache-control': 'no-store' } })
}

function invalid(description: string): AdminRequestError {
  return new AdminRequestError(400, 'invalid_request', description)
}

/** Refuses members `allowed` does not name, so a misspelt option is not silently ignored. */
function only(body: Body, allowed: readonly string[]): void {
  const unknown = Object.keys(body).filter((name) => !allowed.includes(name))
  if (unknown.length > 0) {
    throw invalid(
      `unknown member ${unknown.map((n) => JSON.stringify(n)).join(', ')}; allowed: ${allowed.join(', ')}`,
    )
  }
}

function optionalString(body: Body, name: string): string | undefined {
  const value = body[name]
  if (value === undefined) return undefined
  if (typeof value !== 'string' || value === '') throw invalid(`${name} must be a non-empty string`)
  return value
}

function optionalStrings(body: Body, name: string): string | string[] | undefined {
  const value = body[name]
  if (value === undefined || typeof value === 'string') return value
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value as string[]
  throw invalid(`${name} must be a string or an array of strings`)
}

function optionalObject(body: Body, name: string): Record<string, unknown> | undefined {
  const value = body[name]
  if (value === undefined) return undefined
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid(`${name} must be a JSON object`)
  }
  return value as Record<string, unknown>
}

function optionalNumber(body: Body, name: string): number | undefined {
  const value = body[name]
  if (value === undefined) return undefined
  if (typeof value !== 'number') throw invalid(`${name} must be a number`)
  return value
}

/** An instant as epoch milliseconds or an ISO 8601 date string. */
function optionalInstantMs(body: Body, name: string): number | undefined {
  const value = body[name]
  if (value === undefined) return undefined
  const ms = typeof value === 'string' ? Date.parse(value) : value
  if (typeof ms !== 'number' || !Number.isFinite(ms)) {
    throw invalid(`${name} must be epoch milliseconds or an ISO 8601 date`)
  }
  return ms
}

function optionalEndpoint(body: Body): EndpointKind | undefined {
  const value = body.endpoint
  if (value === undefined) return undefined
  if (!(ENDPOINT_KINDS as readonly unknown[]).includes(value)) {
    throw invalid(`endpoint must be one of ${ENDPOINT_KINDS.join(', ')}`)
  }
  return value as EndpointKind
}

/**
 * What `POST /_admin/clients` takes: the client metadata the server reads, then the other RFC 7591
 * §2 metadata, which it keeps without using. Anything else is a mistake worth naming.
 */
const CLIENT_MEMBERS = [
  'client_id',
  'client_secret',
  'client_secrets',
  'client_secret_hash',
  'token_endpoint_auth_method',
  'token_endpoint_auth_signing_alg',
  'grant_types',
  'scope',
  'jwks',
  'jwks_uri',
  'resources',
  'allow_multiple_resources',
  'dpop_bound_access_tokens',
  'redirect_uris',
  'response_types',
  'client_name',
  'client_uri',
  'logo_uri',
  'contacts',
  'tos_uri',
  'policy_uri',
  'software_id',
  'software_version',
]
const FAILURE_ANSWER_MEMBERS = ['status', 'error', 'errorDescription', 'retryAfterSec', 'delayMs', 'reset']
const MINT_MEMBERS = ['clientId', 'scope', 'resource']
const SHAPING_MEMBERS = ['claims', 'header', 'expiresInSec', 'notBeforeSec', 'issuedAt']

function mintOptions(body: Body): MintTokenOptions {
  const options: MintTokenOptions = {}
  const clientId = optionalString(body, 'clientId')
  const scope = optionalStrings(body, 'scope')
  const resource = optionalStrings(body, 'resource')
  const claims = optionalObject(body, 'claims')
  const header = optionalObject(body, 'header')
  const expiresInSec = optionalNumber(body, 'expiresInSec')
  const notBeforeSec = optionalNumber(body, 'notBeforeSec')
  const issuedAt = optionalInstantMs(body, 'issuedAt')
  if (clientId !== undefined) options.clientId = clientId
  if (scope !== undefined) options.scope = scope
  if (resource !== undefined) options.resource = resource
  if (claims !== undefined) options.claims = claims
  if (header !== undefined) options.header = header
  if (expiresInSec !== undefined) options.expiresInSec = expiresInSec
  if (notBeforeSec !== undefined) options.notBeforeSec = notBeforeSec
  if (issuedAt !== undefined) options.issuedAt = issuedAt
  return options
}

/** The admin resources: path (under {@link ADMIN_PATH}) → method → action. */
function adminRoutes(options: AdminEndpointOptions): Map<string, Partial<Record<string, Action>>> {
  const { server: as, seed } = options
  let registered = 0

  const newClientId = (): string => {
    if (seed === undefined) return `client-${randomUUID()}`
    // The n-th client registered without an id gets the same id on every run with this seed.
    let id: string
    do id = seededClientId(seed, ++registered)
    while (as.server.getClient(id) !== undefined)
    return id
  }

  const registerClient: Action = (body) => {
    only(body, CLIENT_MEMBERS)
    const clientId = optionalString(body, 'client_id') ?? newClientId()
    if (as.server.getClient(clientId) !== undefined) {
      throw new AdminRequestError(
        400,
        'invalid_client_metadata',
        `client "${clientId}" is already registered`,
      )
    }
    const { client_id: _id, ...metadata } = body as Partial<TestClientMetadata>
    const method = metadata.token_endpoint_auth_method ?? 'client_secret_basic'
    const hasSecret =
      metadata.client_secret !== undefined ||
      metadata.client_secrets !== undefined ||
      metadata.client_secret_hash !== undefined
    if (seed !== undefined && method !== 'private_key_jwt' && method !== 'none' && !hasSecret) {
      metadata.client_secret = seededSecret(seed, clientSecretLabel(clientId))
    }
    let credentials: ReturnType<StartedAuthorizationServer['createClient']> | undefined
    try {
      credentials = as.createClient(clientId, metadata)
    } catch (error) {
      // A client with its own keys or secret hash is registered, but has no credentials to give.
      if (!(error instanceof ConfigurationError)) throw error
      // RFC 7591 §3.2.2: metadata the server refuses.
      if (as.server.getClient(clientId) === undefined) {
        throw new AdminRequestError(400, 'invalid_client_metadata', error.message)
      }
    }
    return json(201, {
      ...as.server.getClient(clientId),
      ...(credentials?.clientSecret === undefined ? {} : { client_secret: credentials.clientSecret }),
      ...(credentials?.privateKey === undefined ? {} : { private_jwk: credentials.privateKey }),
      issuer: as.issuer,
      token_endpoint: as.tokenEndpoint,
    })
  }

  const mintToken: Action = async (body) => {
    only(body, [...MINT_MEMBERS, ...SHAPING_MEMBERS])
    const token = await as.mintToken(mintOptions(body))
    return json(200, { access_token: token, token_type: 'Bearer' })
  }

  const mintInvalidToken: Action = async (body) => {
    only(body, ['kind', ...MINT_MEMBERS])
    const { kind } = body
    if (!(INVALID_TOKEN_KINDS as readonly unknown[]).includes(kind)) {
      throw invalid(`kind must be one of ${INVALID_TOKEN_KINDS.join(', ')}`)
    }
    const token = await as.mintInvalidToken(kind as InvalidTokenKind, mintOptions(body))
    return json(200, { access_token: token, token_type: 'Bearer' })
  }

  const clockNow = (): Response => json(200, { nowMs: as.clock.now() })
  const moveClock: Action = (body) => {
    only(body, ['nowMs', 'advanceMs'])
    const nowMs = optionalInstantMs(body, 'nowMs')
    const advanceMs = optionalNumber(body, 'advanceMs')
    if ((nowMs === undefined) === (advanceMs === undefined))
      throw invalid('give exactly one of nowMs and advanceMs')
    if (nowMs !== undefined) as.clock.set(nowMs)
    else as.clock.advance(advanceMs as number)
    return clockNow()
  }

  const failNext: Action = (body) => {
    only(body, ['endpoint', 'times', ...FAILURE_ANSWER_MEMBERS])
    as.failNext(body as unknown as FailNextOptions)
    return noContent()
  }

  const outage: Action = (body) => {
    only(body, ['endpoint', ...FAILURE_ANSWER_MEMBERS])
    const { endpoint: _endpoint, ...answer } = body
    const endpoint = optionalEndpoint(body)
    if (endpoint === undefined) throw invalid(`endpoint is required: one of ${ENDPOINT_KINDS.join(', ')}`)
    as.outage(endpoint, answer as OutageOptions)
    return noContent()
  }

  const restore: Action = (body) => {
    only(body, ['endpoint'])
    as.restore(optionalEndpoint(body))
    return noContent()
  }

  const takeRequests: Action = (body) => {
    only(body, ['endpoint', 'clientId', 'method'])
    const filter: Record<string, string> = {}
    if (body.endpoint !== undefined) {
      // `other`: requests to paths that are none of the server's endpoints.
      filter.endpoint = body.endpoint === 'other' ? 'other' : (optionalEndpoint(body) as string)
    }
    for (const name of ['clientId', 'method'] as const) {
      const value = optionalString(body, name)
      if (value !== undefined) filter[name] = value
    }
    return json(200, { requests: as.takeRequests(filter as RequestFilter) })
  }

  return new Map<string, Partial<Record<string, Action>>>([
    ['', { GET: () => json(200, options.info()) }],
    ['/clients', { POST: registerClient }],
    ['/tokens', { POST: mintToken }],
    ['/invalid-tokens', { POST: mintInvalidToken }],
    ['/clock', { GET: clockNow, POST: moveClock }],
    ['/fail-next', { POST: failNext }],
    ['/outage', { POST: outage }],
    ['/restore', { POST: restore }],
    ['/requests', { GET: () => json(200, { requests: as.requests }) }],
    ['/requests/take', { POST: takeRequests }],
  ])
}

function checkHost(request: Request): void {
  // Browsers always send Host; a request without one did not come through a rebound DNS name.
  const host = request.headers.get('host') ?? new URL(request.url).host
  let hostname: string | undefined
  try {
    hostname = new URL(`http://${host}`).hostname
  } catch {
    hostname = undefined
  }
  if (hostname === undefined || !isLoopbackHostname(hostname)) {
    throw new AdminRequestError(
      403,
      'access_denied',
      'the admin endpoint answers only requests to a loopback host',
    )
  }
}

async function readBody(request: Request): Promise<Body> {
  if (mediaTypeOf(request.headers.get('content-type')) !== 'application/json') {
    throw new AdminRequestError(
      415,
      'invalid_request',
      'send a JSON body with content-type: application/json',
    )
  }
  let body: BoundedBody
  try {
    body = await readBoundedBody(request.body, ADMIN_MAX_BODY_BYTES)
  } catch {
    throw invalid('the body could not be read')
  }
  if (body.overflowed) {
    throw new AdminRequestError(
      413,
      'invalid_request',
      `the body is larger than ${ADMIN_MAX_BODY_BYTES} bytes`,
    )
  }
  const text = new TextDecoder().decode(body.bytes)
  if (text.trim() === '') return {}
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw invalid('the body is not valid JSON')
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalid('the body must be a JSON object')
  return value as Body
}

/** The error answer for a thrown `error`; rethrows what is no fault of the request. */
function errorAnswer(error: unknown): Response {
  if (error instanceof AdminRequestError) {
    return json(error.status, { error: error.error, error_description: error.message }, error.headers)
  }
  // The server refused the token request as it would a real client's (e.g. invalid_scope).
  if (error instanceof OAuthResponseError) {
    return json(400, {
      error: error.error,
      ...(error.errorDescription === undefined ? {} : { error_description: error.errorDescription }),
    })
  }
  // Options the test server refuses: its messages name the member, never a secret.
  if (error instanceof ConfigurationError) {
    return json(400, { error: 'invalid_request', error_description: error.message })
  }
  throw error
}

/**
 * Answers admin requests for `options.server`: the resources under {@link ADMIN_PATH}, 404 for
 * any other path, 405 for a method a resource does not take.
 */
export function createAdminHandler(options: AdminEndpointOptions): (request: Request) => Promise<Response> {
  const routes = adminRoutes(options)
  return async (request) => {
    try {
      checkHost(request)
      const path = new URL(request.url).pathname.replace(/\/+$/, '')
      const resource =
        path === ADMIN_PATH || path.startsWith(`${ADMIN_PATH}/`) ? path.slice(ADMIN_PATH.length) : undefined
      const methods = resource === undefined ? undefined : routes.get(resource)
      if (methods === undefined) {
        throw new AdminRequestError(404, 'not_found', `no admin resource at ${path || '/'}`)
      }
      const action = methods[request.method]
      if (action === undefined) {
        const allow = Object.keys(methods).join(', ')
        throw new AdminRequestError(
          405,
          'invalid_request',
          `${request.method} is not allowed here; use ${allow}`,
          {
            allow,
          },
        )
      }
      const body = request.method === 'POST' ? await readBody(request) : {}
      return await action(body)
    } catch (error) {
      return errorAnswer(error)
    }
  }
}

/**
 * Starts the admin endpoint on its own loopback port.
 *
 * @throws {ConfigurationError} when `host` is not a loopback address.
 */
export function startAdminEndpoint(
  options: AdminEndpointOptions & {
    /** Loopback address to bind. Default `127.0.0.1`. */
    readonly host?: string
    /** TCP port. Default 0: a free one. */
    readonly port?: number
  },
): Promise<TestListener> {
  const handle = createAdminHandler(options)
  return startTestListener((request) => handle(request), {
    maxBodyBytes: ADMIN_MAX_BODY_BYTES,
    ...(options.host === undefined ? {} : { host: options.host }),
    ...(options.port === undefined ? {} : { port: options.port }),
  })
}
