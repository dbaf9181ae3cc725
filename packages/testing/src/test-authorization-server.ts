/**
 * The reference authorization server set up for a test: a default client, generated credentials,
 * credentials by client id, tokens minted through the server's own token endpoint, and the
 * world around it under the test's control (clock, request log, failures on demand).
 *
 * @module test-authorization-server
 */
import { ConfigurationError } from '@oauth-m2m/core'
import {
  type AuthorizationServer,
  type AuthorizationServerConfig,
  createAuthorizationServer,
} from '@oauth-m2m/server'
import type { VerifierOptions } from '@oauth-m2m/verifier'
import type { Dispatcher } from 'undici'
import { createTestClock, type TestClock } from './clock.js'
import { type EndpointKind, endpointMap } from './endpoint-kinds.js'
import { type FailNextOptions, FailureInjector, type OutageOptions } from './failure-injection.js'
import {
  type InvalidTokenKind,
  type MintInvalidTokenOptions,
  mintInvalidTestToken,
} from './invalid-tokens.js'
import { ProfileBinding, type ProfileServerOptions, prepareProfile } from './profiles/profile-binding.js'
import { DEFAULT_MAX_BODY_BYTES } from './request-body.js'
import { type LoggedRequest, type RequestFilter, RequestLog } from './request-log.js'
import { attachRouter, type RequestInterceptor, RequestRouter } from './request-router.js'
import {
  type PreparedTestClient,
  prepareTestClient,
  type TestClientCredentials,
  type TestClientMetadata,
} from './test-clients.js'
import { type MintTokenOptions, mintTestToken } from './token-minting.js'
import { loadUndici } from './undici-loader.js'

/** `client_id` of the client every test server registers unless told otherwise. */
export const DEFAULT_TEST_CLIENT_ID = 'test-client'
/** Scope of the default client. */
export const DEFAULT_TEST_SCOPE = 'read write'
/** `aud` of tokens requested without `resource`. */
export const DEFAULT_TEST_AUDIENCE = 'https://api.example.test'
/** Issuer of an in-process test server ({@link createTestAuthorizationServer}) when none is given. */
export const DEFAULT_TEST_ISSUER = 'https://as.example.test'

/** What a client registered by `createClient` is unless its metadata says otherwise. */
const NEW_CLIENT_DEFAULTS: Partial<TestClientMetadata> = {
  scope: DEFAULT_TEST_SCOPE,
  token_endpoint_auth_method: 'client_secret_basic',
}

/** Options of {@link createTestAuthorizationServer} and `startAuthorizationServer`. */
export interface TestAuthorizationServerOptions
  // `profile` here names a provider profile (Okta, Entra ID, …), not the server's `profile: 'fapi2'`.
  extends Omit<AuthorizationServerConfig, 'clients' | 'issuer' | 'defaultAudience' | 'profile'>,
    ProfileServerOptions {
  /**
   * Clients registered besides the default one (see {@link TestClientMetadata}: secrets and
   * `private_key_jwt` keys are generated when left out). A client with the default client's id
   * replaces it. Default: none.
   */
  clients?: TestClientMetadata[]
  /**
   * The default client, merged over `{ client_id: 'test-client', scope: 'read write',
   * token_endpoint_auth_method: 'client_secret_basic' }` with a random secret; `false` registers
   * none. Default: that client.
   */
  defaultClient?: Partial<TestClientMetadata> | false
  /**
   * `aud` of tokens requested without `resource`; also registered as a resource (RFC 8707), unless
   * `resources` already lists it, so that clients may name it. Default {@link DEFAULT_TEST_AUDIENCE}.
   */
  defaultAudience?: string
  /**
   * Issuer identifier. Default: {@link DEFAULT_TEST_ISSUER} in process; the listener's URL for
   * `startAuthorizationServer`, which does not accept another.
   */
  issuer?: string
  /**
   * Where the server's clock starts from, epoch milliseconds. Default `Date.now`. The server
   * reads {@link TestAuthorizationServer.clock}, which follows this source and which
   * `clock.set()` / `clock.advance()` move.
   */
  now?: () => number
}

/** A reference authorization server with test clients. */
export interface TestAuthorizationServer {
  /** The issuer identifier. */
  readonly issuer: string
  /** The token endpoint URL. */
  readonly tokenEndpoint: string
  /** `aud` of tokens requested without `resource`: what a verifier's `audience` should be. */
  readonly audience: string
  /** The real server: `handle()`, `metadata`, `rotateSigningKey()`. */
  readonly server: AuthorizationServer
  /**
   * Ids of every client this helper registered: the default one first, then `options.clients`,
   * then those `createClient` registered, in order.
   */
  readonly clientIds: readonly string[]
  /**
   * The credentials of a client, ready for `createTokenClient({ ...credentials })`.
   *
   * Without `clientId`: the default client, or with `defaultClient: false` the first of
   * `options.clients`. With a `clientId` the server does not know, a new client is registered on
   * the running server — `metadata` merged over `{ scope: 'read write',
   * token_endpoint_auth_method: 'client_secret_basic' }`, with a random secret or, for
   * `private_key_jwt`, a new P-256 key pair unless `metadata` brings its own — and may get
   * tokens at once. Asked again for the same id, it returns the same credentials.
   *
   * @param metadata RFC 7591 metadata of the client to register (see {@link TestClientMetadata});
   *   only for an id that is not registered yet.
   * @throws {ConfigurationError} when `metadata` is invalid, is given for a client that is already
   *   registered or without a `clientId`, when there is no default client, or when the server
   *   holds only public or hashed credentials of the client (registered with its own keys or
   *   secret hashes, or directly on `server`).
   */
  createClient(clientId?: string, metadata?: Partial<TestClientMetadata>): TestClientCredentials
  /**
   * An access token from the server's token endpoint, called in process: a JWT (RFC 9068) or an
   * opaque token, as the server or the resource is configured. `sub` and `client_id` are the
   * client's id, `scope` what was asked for (default: everything the client may have), `aud`
   * the resource's audience (default: {@link TestAuthorizationServer.audience}). With `claims`,
   * `header`, `expiresInSec`, `notBeforeSec` or `issuedAt`, that token is shaped and issued again
   * by the server: see {@link MintTokenOptions}.
   *
   * @throws {OAuthResponseError} when the server refuses (e.g. `invalid_scope`).
   */
  mintToken(options?: MintTokenOptions): Promise<string>
  /**
   * A token a verifier must refuse, with one thing wrong (see {@link InvalidTokenKind}), built on
   * a valid token for the client, scope and resource of `options`. A new token on every call.
   */
  mintInvalidToken(kind: InvalidTokenKind, options?: MintInvalidTokenOptions): Promise<string>
  /**
   * The server's clock: issued `iat`/`exp`, client-assertion checks, JWKS key retirement, the
   * expiry of stored tokens and the request log's times all read it. `clock.set(ms)` and
   * `clock.advance(ms)` move it without fake timers; it keeps flowing from there like a real
   * clock (at the pace of the `now` option).
   */
  readonly clock: TestClock
  /**
   * Every request answered so far (over HTTP or msw; `mintToken` is not one), oldest first, at
   * most 1000 (`REQUEST_LOG_MAX_ENTRIES`): endpoint, method, path, form parameters with secrets,
   * assertions and tokens redacted, the client authentication method, client id, time (by
   * {@link TestAuthorizationServer.clock}) and answer status. A snapshot: read it again to see
   * later requests.
   */
  readonly requests: readonly LoggedRequest[]
  /**
   * Removes the logged requests that `filter` matches (all without one) and returns them, oldest
   * first: `expect(as.takeRequests({ endpoint: 'token' })).toHaveLength(1)`.
   *
   * @param filter Fields an entry must have (`endpoint`, `clientId`, `method`), or a predicate.
   */
  takeRequests(filter?: RequestFilter): LoggedRequest[]
  /**
   * Makes the next request (or `times` requests) to an endpoint fail: an RFC 6749 §5.2 error with
   * `status` (and `Retry-After` when `retryAfterSec` is given), a connection reset (`reset: true`),
   * or, with only `delayMs`, the real answer late. Through msw and a real port alike.
   *
   * @throws {ConfigurationError} naming the first invalid member.
   */
  failNext(options: FailNextOptions): void
  /**
   * Makes every request to `endpoint` fail until {@link TestAuthorizationServer.restore}: 503
   * `temporarily_unavailable` by default, or as `options` say (`{ reset: true }` resets each
   * connection).
   *
   * @throws {ConfigurationError} naming the first invalid member.
   */
  outage(endpoint: EndpointKind, options?: OutageOptions): void
  /**
   * Ends outages and drops the failures `failNext` planned that have not happened yet: of
   * `endpoint`, or of every endpoint.
   */
  restore(endpoint?: EndpointKind): void
  /**
   * An undici `Dispatcher` that reaches this server: under a provider profile, every request for
   * the provider's hosts (`login.microsoftonline.com`, …) goes to this server, so clients and
   * verifiers use the provider's URLs unchanged (`createTokenClient({ ...as.createClient(),
   * dispatcher: as.dispatcher })`); any other host is reached as usual. In process it answers
   * without a socket; for `startAuthorizationServer` it goes to the loopback listener.
   */
  readonly dispatcher: Dispatcher
  /**
   * Options for `createVerifier` that accept this server's tokens: under a provider profile, that
   * provider's real verifier preset (`entraId(…)`, `auth0(…)`, …) with this server's settings and
   * {@link TestAuthorizationServer.dispatcher}; otherwise `{ issuer, audience, dispatcher }`.
   */
  verifierOptions(): VerifierOptions
  /** Stops the server and closes every listener. */
  close(): Promise<void>
}

/** The pieces both entry points share: the completed config and the prepared clients. */
export interface PreparedTestServerConfig {
  /** What `createAuthorizationServer` is given: the options completed (clients, resources, clock). */
  readonly config: AuthorizationServerConfig
  /** The clients this helper registers, by id, the default one first, with their credentials. */
  readonly clients: ReadonlyMap<string, PreparedTestClient>
  /** `aud` of tokens requested without `resource` (the `defaultAudience` option or its default). */
  readonly audience: string
  /** The clock `config.now` reads. */
  readonly clock: TestClock
  /**
   * Run by the request router, in order, between failure injection and the server (e.g. a
   * provider profile's request rules and answer quirks). Default: none.
   */
  readonly interceptors: readonly RequestInterceptor[]
  /** The provider profile applied (`'rfc9068'` too): `dispatcher` and `verifierOptions()`. */
  readonly profile: ProfileBinding
  /**
   * The server's `maxBodyBytes` (its default when not configured): the one limit of every reader
   * in front of the server (listener, request log, profile rules).
   */
  readonly maxBodyBytes: number
}

/**
 * Completes the options into a server configuration.
 *
 * @throws {ConfigurationError} when a client id is registered twice.
 */
export function prepareTestServerConfig(
  options: TestAuthorizationServerOptions,
  issuer: string | undefined,
  sharedClock?: TestClock,
): PreparedTestServerConfig {
  const profiled = prepareProfile(options, issuer)
  const {
    clients = [],
    defaultClient = {},
    defaultAudience,
    issuer: _issuer,
    now,
    ...serverOptions
  } = profiled.options
  const clock = sharedClock ?? createTestClock(now)
  const maxBodyBytes = serverOptions.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES
  const profile = new ProfileBinding(profiled.profile, () => clock.now(), maxBodyBytes)
  const defaultId = defaultClient === false ? undefined : (defaultClient.client_id ?? DEFAULT_TEST_CLIENT_ID)
  const replacement = clients.find((c) => defaultId !== undefined && c?.client_id === defaultId)
  let listed: TestClientMetadata[]
  if (defaultClient === false) listed = [...clients]
  else if (replacement) listed = [replacement, ...clients.filter((c) => c !== replacement)]
  else {
    const builtIn: TestClientMetadata = {
      client_id: DEFAULT_TEST_CLIENT_ID,
      scope: DEFAULT_TEST_SCOPE,
      token_endpoint_auth_method: 'client_secret_basic',
      ...defaultClient,
    }
    listed = [builtIn, ...clients]
  }
  const prepared = new Map<string, PreparedTestClient>()
  for (const metadata of listed) {
    const client = prepareTestClient(metadata)
    if (prepared.has(client.metadata.client_id)) {
      throw new ConfigurationError(
        `@oauth-m2m/testing: client "${client.metadata.client_id}" is listed twice`,
      )
    }
    prepared.set(client.metadata.client_id, client)
  }
  const audience = defaultAudience ?? DEFAULT_TEST_AUDIENCE
  // The default audience is also a resource indicator, so `resource: as.audience` is accepted.
  const resources = serverOptions.resources ?? []
  const withAudience = resources.some((r) => r?.resource === audience)
    ? resources
    : [...resources, { resource: audience }]
  return {
    config: {
      ...serverOptions,
      resources: withAudience,
      ...(profiled.issuer === undefined ? {} : { issuer: profiled.issuer }),
      defaultAudience: audience,
      clients: [...prepared.values()].map((c) => c.metadata),
      now: () => clock.now(),
    },
    clients: prepared,
    audience,
    clock,
    interceptors: profile.interceptors,
    profile,
    maxBodyBytes,
  }
}

/** Metadata URLs a server is configured to serve besides the RFC 8414 one. */
function extraMetadataUrls(config: AuthorizationServerConfig): readonly string[] {
  // Read structurally: `endpoints` is a newer server option than this helper's oldest peer.
  const endpoints = (config as { endpoints?: { metadata?: readonly string[] } }).endpoints
  return endpoints?.metadata ?? []
}

/**
 * Wraps a created server with the test helpers; its request router (log, failures,
 * interceptors) is attached to the handle for `authorizationServerHandlers` and the listeners.
 */
export function testServerHandle(
  server: AuthorizationServer,
  prepared: PreparedTestServerConfig,
  close: () => Promise<void>,
): TestAuthorizationServer {
  const issuer = server.issuer
  const tokenEndpoint = server.metadata.token_endpoint
  // Every client this helper registered and can act as: the listed ones, then created ones.
  const clients = new Map(prepared.clients)
  const credentials = new Map<string, TestClientCredentials>()
  const defaultClientId = prepared.clients.keys().next().value

  const register = (clientId: string, metadata: Partial<TestClientMetadata>): PreparedTestClient => {
    const client = prepareTestClient({ ...NEW_CLIENT_DEFAULTS, ...metadata, client_id: clientId })
    server.registerClient(client.metadata)
    clients.set(clientId, client)
    credentials.delete(clientId)
    return client
  }

  const createClient = (clientId?: string, metadata?: Partial<TestClientMetadata>): TestClientCredentials => {
    if (clientId === undefined && metadata !== undefined) {
      throw new ConfigurationError(
        '@oauth-m2m/testing: createClient needs the id of the client to register with metadata',
      )
    }
    const id = clientId ?? defaultClientId
    if (id === undefined) {
      throw new ConfigurationError(
        '@oauth-m2m/testing: there is no default client (defaultClient: false and no options.clients); pass a client id to register one',
      )
    }
    let client = clients.get(id)
    const registered = server.getClient(id) !== undefined
    if (registered && metadata !== undefined) {
      throw new ConfigurationError(
        `@oauth-m2m/testing: client "${id}" is already registered; metadata is only for a new client (change a registered one with server.updateClient)`,
      )
    }
    if (!registered) client = register(id, metadata ?? {})
    if (client === undefined) {
      throw new ConfigurationError(
        `@oauth-m2m/testing: client "${id}" was registered directly on the server, so its credentials are unknown here; let createClient register it instead`,
      )
    }
    let found = credentials.get(id)
    if (found === undefined) {
      found = client.credentials(issuer, tokenEndpoint)
      credentials.set(id, found)
    }
    return found
  }
  const log = new RequestLog()
  const failures = new FailureInjector()
  const router = new RequestRouter({
    server,
    endpoints: endpointMap(server, extraMetadataUrls(prepared.config)),
    clock: prepared.clock,
    log,
    failures,
    interceptors: prepared.interceptors,
    maxBodyBytes: prepared.maxBodyBytes,
  })
  prepared.profile.attach(server, router, {
    clientIds: () => [...clients.keys()],
    audience: prepared.audience,
  })
  const handle: TestAuthorizationServer = {
    issuer,
    tokenEndpoint,
    audience: prepared.profile.audience,
    server,
    get clientIds() {
      return [...clients.keys()]
    },
    createClient,
    mintToken: (options = {}) => mintTestToken(server, createClient(options.clientId), options),
    mintInvalidToken: (kind, options = {}) =>
      mintInvalidTestToken(server, createClient(options.clientId), kind, options, () => prepared.clock.now()),
    clock: prepared.clock,
    get requests() {
      return log.entries
    },
    takeRequests: (filter) => log.take(filter),
    failNext: (options) => failures.failNext(options),
    outage: (endpoint, options) => failures.outage(endpoint, options),
    restore: (endpoint) => failures.restore(endpoint),
    get dispatcher() {
      return prepared.profile.dispatcher
    },
    verifierOptions: () => prepared.profile.verifierOptions(),
    close: async () => {
      router.close()
      await close()
      await prepared.profile.close()
    },
  }
  attachRouter(handle, router)
  return handle
}

/**
 * The reference authorization server in this process, with no port: answer its requests with
 * `authorizationServerHandlers()` (msw) or `server.handle()`. Its issuer defaults to
 * {@link DEFAULT_TEST_ISSUER}.
 *
 * @throws {ConfigurationError} when the options are not a valid server configuration.
 */
export async function createTestAuthorizationServer(
  options: TestAuthorizationServerOptions = {},
): Promise<TestAuthorizationServer> {
  await loadUndici()
  const prepared = prepareTestServerConfig(options, options.issuer ?? DEFAULT_TEST_ISSUER)
  const server = await createAuthorizationServer(prepared.config)
  return testServerHandle(server, prepared, () => server.close())
}
