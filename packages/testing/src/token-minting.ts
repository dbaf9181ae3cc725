/**
 * Mints access tokens for tests by calling the reference server's own token endpoint in process
 * (`server.handle()`, no socket) with the same authenticated form POST a real client sends, so a
 * token is exactly what a real client would get: same claims, same signing key, and opaque tokens
 * the server can introspect and revoke. A shaped token (claims, header or times of the test's
 * choosing) starts from such a token's claims and is issued again by the server with them changed.
 *
 * @module token-minting
 */
import { ConfigurationError } from '@oauth-m2m/core'
import { errorFromAnswer, postAuthenticatedForm } from '@oauth-m2m/core/internal'
import type { AuthorizationServer } from '@oauth-m2m/server'
import { accessTokenClaims, issueAccessToken } from '@oauth-m2m/server/internal'
import { decodeJwt } from 'jose/jwt/decode'
import type { Dispatcher } from 'undici'
import type { TestClientCredentials } from './test-clients.js'
import { loadUndici } from './undici-loader.js'
import { createWebHandlerDispatcher } from './web-handler-dispatcher.js'

const PURPOSE = 'token endpoint'

/** One dispatcher per server, answering from `server.handle()` without a socket. */
const dispatchers = new WeakMap<AuthorizationServer, Dispatcher>()

function inProcessDispatcher(server: AuthorizationServer): Dispatcher {
  let dispatcher = dispatchers.get(server)
  if (dispatcher === undefined) {
    dispatcher = createWebHandlerDispatcher((request) => server.handle(request), unanswered)
    dispatchers.set(server, dispatcher)
  }
  return dispatcher
}

/** Options of `mintToken`. */
export interface MintTokenOptions {
  /**
   * The client the token is issued to: its `sub` and `client_id`. An id the server does not know
   * is registered first, as `createClient(clientId)` does. Default: the default client.
   */
  clientId?: string
  /** Scopes asked for (space-separated or a list). Default: every scope the client may have. */
  scope?: string | readonly string[]
  /**
   * RFC 8707 resource indicator(s); the token's `aud` becomes the resource's audience, and its
   * format and lifetime those configured for the resource. Default: none (the server's
   * `defaultAudience`).
   */
  resource?: string | readonly string[]
  /**
   * Claims merged over those the server issued (a member whose value is `undefined` removes that
   * claim). Any claim may be overridden, `iss`, `aud`, `sub` and `exp` included: this is a test
   * helper, and tokens a real server would never issue are what refusal tests need. Applied last,
   * so it wins over `issuedAt`, `expiresInSec` and `notBeforeSec`. A plain object of JSON values
   * (else `ConfigurationError`).
   */
  claims?: Readonly<Record<string, unknown>>
  /**
   * JWT header members replacing or adding to the server's (`typ`, `kid`, …); one whose value is
   * `undefined` is left out. `alg` is always the signing key's. Ignored for opaque tokens. A plain
   * object of JSON values (else `ConfigurationError`).
   */
  header?: Readonly<Record<string, unknown>>
  /**
   * Lifetime, in seconds counted from `iat`: `exp` = `iat` + this. Negative for a token that has
   * already expired. Default: the lifetime the server gives (its `accessTokenLifetimeSec`, or the
   * resource's).
   */
  expiresInSec?: number
  /**
   * Seconds from `iat` until the token becomes valid: sets `nbf` = `iat` + this. Positive for a
   * token that is not valid yet. Default: no `nbf`, as the server issues.
   */
  notBeforeSec?: number
  /**
   * The token's `iat`: a `Date`, or epoch milliseconds like every instant in oauth-m2m (the test
   * clock's `now()`, `TokenSet.issuedAt`), not the epoch seconds of the claim itself, which is
   * derived from it (rounded down). `exp` and `nbf` keep their distance to `iat` unless set. Default:
   * the server's now.
   */
  issuedAt?: Date | number
}

/** The options that make {@link mintTestToken} shape a token instead of returning the endpoint's. */
const SHAPING_OPTIONS = ['claims', 'header', 'expiresInSec', 'notBeforeSec', 'issuedAt'] as const

/** Whether `options` asks for a shaped token. */
export function shapesToken(options: MintTokenOptions): boolean {
  return SHAPING_OPTIONS.some((name) => options[name] !== undefined)
}

function list(value: string | readonly string[] | undefined): readonly string[] {
  if (value === undefined) return []
  return typeof value === 'string' ? [value] : value
}

/** Whose answer the in-process dispatcher has none for: never, since the server answers everything. */
function unanswered(request: Request): Error {
  return new Error(`the reference server did not answer ${request.method} ${request.url}`)
}

/**
 * Asks `server`'s token endpoint for a client_credentials token as `client`, through the same
 * authenticated form POST the token client uses, answered in process by `server.handle()`.
 *
 * @throws {OAuthResponseError} when the server refuses.
 * @throws {HttpError} when its answer is not a token response.
 */
export async function requestTestToken(
  server: AuthorizationServer,
  client: TestClientCredentials,
  options: MintTokenOptions,
): Promise<string> {
  await loadUndici()
  const form = new URLSearchParams({ grant_type: 'client_credentials' })
  const scope = list(options.scope).join(' ')
  if (scope !== '') form.set('scope', scope)
  for (const resource of list(options.resource)) form.append('resource', resource)
  const answer = await postAuthenticatedForm(client.tokenEndpoint, form, {
    auth: client.auth,
    context: {
      clientId: client.clientId,
      endpoint: client.tokenEndpoint,
      tokenEndpoint: client.tokenEndpoint,
      issuer: client.issuer,
    },
    purpose: PURPOSE,
    dispatcher: inProcessDispatcher(server),
  })
  const body = answer.body as Record<string, unknown> | null
  if (answer.status === 200 && typeof body?.access_token === 'string') return body.access_token
  // Scrubbed like the client's: the server may echo the credential it was sent.
  throw errorFromAnswer(answer, answer.redactor, PURPOSE)
}

/** A token the server issued, with its claims and how it was issued. */
export interface IssuedTestToken {
  /** The access token as the token endpoint answered it. */
  readonly token: string
  /** A JWT's payload, or the claims the server stores for an opaque token. */
  readonly claims: Readonly<Record<string, unknown>>
  /** Whether the server signed it (`jwt`) or stored it (`opaque`). */
  readonly format: 'jwt' | 'opaque'
}

/**
 * A token from the token endpoint (as {@link requestTestToken}) with its claims: a JWT's payload,
 * or what the server stores for an opaque token.
 */
export async function issuedTestToken(
  server: AuthorizationServer,
  client: TestClientCredentials,
  options: MintTokenOptions,
): Promise<IssuedTestToken> {
  const token = await requestTestToken(server, client, options)
  if (token.includes('.')) return { token, claims: decodeJwt(token), format: 'jwt' }
  const claims = await accessTokenClaims(server, token)
  if (claims === undefined)
    throw new Error('@oauth-m2m/testing: the server does not know the token it just issued')
  return { token, claims, format: 'opaque' }
}

function integerSec(value: unknown, name: string): number | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new ConfigurationError(`@oauth-m2m/testing: mintToken ${name} must be an integer number of seconds`)
  }
  return value
}

function issuedAtSec(value: Date | number | undefined): number | undefined {
  if (value === undefined) return undefined
  const ms = value instanceof Date ? value.getTime() : value
  if (typeof ms !== 'number' || !Number.isFinite(ms)) {
    throw new ConfigurationError(
      '@oauth-m2m/testing: mintToken issuedAt must be a valid Date or epoch milliseconds',
    )
  }
  return Math.floor(ms / 1000)
}

/**
 * The claims of `issued` shaped by `options`: `iat` moved (with `exp` and `nbf` keeping their
 * distance to it), then `exp` and `nbf` from `iat`, then `claims` merged over all.
 *
 * @throws {ConfigurationError} when a time option is not a number of the kind it says.
 */
export function shapeClaims(
  issued: Readonly<Record<string, unknown>>,
  options: MintTokenOptions,
): Record<string, unknown> {
  const expiresInSec = integerSec(options.expiresInSec, 'expiresInSec')
  const notBeforeSec = integerSec(options.notBeforeSec, 'notBeforeSec')
  const newIat = issuedAtSec(options.issuedAt)
  const shaped: Record<string, unknown> = { ...issued }
  const oldIat = typeof issued.iat === 'number' ? issued.iat : undefined
  const iat = newIat ?? oldIat
  if (newIat !== undefined) {
    shaped.iat = newIat
    if (oldIat !== undefined) {
      for (const name of ['exp', 'nbf'] as const) {
        const time = issued[name]
        if (typeof time === 'number') shaped[name] = newIat + (time - oldIat)
      }
    }
  }
  if (iat === undefined && (expiresInSec !== undefined || notBeforeSec !== undefined)) {
    throw new ConfigurationError(
      '@oauth-m2m/testing: the token has no iat to count expiresInSec or notBeforeSec from',
    )
  }
  if (expiresInSec !== undefined) shaped.exp = (iat as number) + expiresInSec
  if (notBeforeSec !== undefined) shaped.nbf = (iat as number) + notBeforeSec
  for (const [name, value] of Object.entries(options.claims ?? {})) {
    if (value === undefined) delete shaped[name]
    else shaped[name] = value
  }
  return shaped
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const prototype = Object.getPrototypeOf(value)
  return prototype === Object.prototype || prototype === null
}

/** The path of the first value under `value` that JSON cannot hold as it is; `undefined` when none. */
function unsafeJsonPath(value: unknown, path: string, seen: Set<object>): string | undefined {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return undefined
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : path
  if (typeof value !== 'object' || seen.has(value)) return path
  if (!Array.isArray(value) && !isPlainObject(value)) return path
  seen.add(value)
  const entries: [string, unknown][] = Array.isArray(value)
    ? value.map((item, index) => [`${path}[${index}]`, item])
    : Object.entries(value).map(([name, item]) => [`${path}.${name}`, item])
  for (const [where, item] of entries) {
    const found = unsafeJsonPath(item, where, seen)
    if (found !== undefined) return found
  }
  seen.delete(value)
  return undefined
}

/**
 * Checks that `claims` or `header` is a plain object of JSON values (a top-level member may be
 * `undefined`: it removes that member), so a mistake is named before a token is requested.
 *
 * @throws {ConfigurationError} naming the option, or the first member JSON cannot hold (a
 *   bigint, `NaN`, a function, a `Date`, a cycle, …).
 */
function checkJsonObject(value: unknown, name: 'claims' | 'header'): void {
  if (value === undefined) return
  if (!isPlainObject(value)) {
    throw new ConfigurationError(`@oauth-m2m/testing: mintToken ${name} must be a plain object`)
  }
  const seen = new Set<object>([value])
  for (const [member, item] of Object.entries(value)) {
    const found = item === undefined ? undefined : unsafeJsonPath(item, `${name}.${member}`, seen)
    if (found !== undefined) {
      throw new ConfigurationError(
        `@oauth-m2m/testing: mintToken ${found} must be a JSON value (string, finite number, boolean, null, array or plain object)`,
      )
    }
  }
}

/**
 * An access token for `client`: the token endpoint's own answer, or, with any of `claims`,
 * `header`, `expiresInSec`, `notBeforeSec`, `issuedAt`, that answer's claims shaped by them and
 * issued again by the server (signed with its current key, or stored when opaque).
 *
 * @throws {ConfigurationError} when a shaping option is not of its type: `claims` and `header`
 *   must be plain objects of JSON values.
 */
export async function mintTestToken(
  server: AuthorizationServer,
  client: TestClientCredentials,
  options: MintTokenOptions,
): Promise<string> {
  if (!shapesToken(options)) return requestTestToken(server, client, options)
  checkJsonObject(options.claims, 'claims')
  checkJsonObject(options.header, 'header')
  const issued = await issuedTestToken(server, client, options)
  return issueAccessToken(server, {
    claims: shapeClaims(issued.claims, options),
    format: issued.format,
    ...(options.header === undefined ? {} : { header: options.header }),
  })
}
