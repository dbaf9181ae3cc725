/**
 * The transport-neutral server: routes (method, path) to an endpoint and turns a request's
 * `Authorization` header, content type, body and client certificate into an
 * {@link EndpointResponse}. The node:http and web adapters only move bytes in and out.
 *
 * @module server-core
 */
import type { X509Certificate } from 'node:crypto'
import { ConfigurationError } from '@oauth-m2m/core'
import { ClientAuthenticator } from './client-authentication.js'
import { type PresentedCertificate, presentedCertificate } from './client-certificate.js'
import type { TokenEndpointAuthMethod } from './client-metadata.js'
import type { ClientRegistry } from './client-registry.js'
import type { ServerEndpoint } from './diagnostics.js'
import { EndpointNames } from './endpoint-names.js'
import { fapi2Metadata } from './fapi2-profile.js'
import { isStoreUnavailable, storeUnavailableAnswer } from './guarded-store.js'
import { HEALTH_PATH, healthAnswer, READY_PATH, readinessAnswer } from './health-endpoints.js'
import { type EndpointResponse, oauthError, publicJson } from './http-response.js'
import { IntrospectionEndpoint } from './introspection-endpoint.js'
import { buildMetadata, type EndpointLocations, endpointLocations, type ServerMetadata } from './metadata.js'
import type { FailedAuthLimiter } from './rate-limit.js'
import type { RegistrationRoutes } from './registration-endpoint.js'
import { type FormParams, readForm } from './request-form.js'
import { describeRequestClient, type RequestClient } from './request-log.js'
import type { ResolvedConfig } from './resolve-config.js'
import { ResourceResolver } from './resource.js'
import { RevocationEndpoint } from './revocation-endpoint.js'
import type { SecretHasher } from './secret-hash.js'
import type { ServerStore } from './server-store.js'
import type { SigningKeySet } from './signing/signing-key-set.js'
import { TokenEndpoint } from './token-endpoint.js'
import { AccessTokenIssuer } from './token-issuer.js'
import { TokenLookup } from './token-lookup.js'
import { TokenRequestDpop } from './token-request-dpop.js'

/** The state shared by every issuer binding of one server. */
export interface ServerState {
  config: ResolvedConfig
  registry: ClientRegistry
  hasher: SecretHasher
  limiter: FailedAuthLimiter | undefined
  store: ServerStore
  keys: SigningKeySet
  /** Makes the registration routes for the registration endpoint's URL, when registration is on. */
  registrationAt?: ((url: string) => RegistrationRoutes) | undefined
}

/** A request to a POST endpoint, as an adapter hands it over once the body is read. */
export interface FormRequest {
  /**
   * Every `Authorization` header of the request, in the order received. A web `Headers` object
   * has already joined repeated ones into one value with ", ".
   */
  authorization: readonly string[]
  /**
   * Every `DPoP` header of the request (RFC 9449), in the order received. A web `Headers` object
   * has already joined repeated ones into one value with ", ".
   */
  dpop: readonly string[]
  /** The `Content-Type` header, if any. */
  contentType: string | undefined
  /** The body, decoded as UTF-8. */
  body: string
  /**
   * Where the request came from, for brute-force protection: the socket's peer address, or `''`
   * when the adapter does not know it.
   */
  source: string
  /**
   * The client certificate (RFC 8705): the TLS peer's, a trusted proxy's `Client-Cert` (RFC 9440),
   * or the one the host of `handle()` gave; `undefined` when none.
   */
  clientCertificate?: X509Certificate | undefined
}

/**
 * What a POST endpoint is given once the body is parsed: the one `Authorization` header, the form
 * parameters, the caller's source, the `DPoP` headers and the client certificate.
 */
export type FormHandler = (
  authorization: string | undefined,
  params: FormParams,
  source: string,
  dpop: readonly string[],
  certificate: PresentedCertificate | undefined,
) => EndpointResponse | Promise<EndpointResponse>

/** A POST endpoint: the adapter reads the body (bounded), then calls {@link FormRoute.handle}. */
export class FormRoute {
  readonly #handle: FormHandler
  readonly #onInternalError: (error: unknown) => void
  readonly #registeredMethod: (clientId: string) => TokenEndpointAuthMethod | undefined

  /**
   * @param registeredMethod The method a client is registered with, when known at once; only the
   *   request log reads it.
   */
  constructor(
    handle: FormHandler,
    onInternalError: (error: unknown) => void,
    registeredMethod: (clientId: string) => TokenEndpointAuthMethod | undefined = () => undefined,
  ) {
    this.#handle = handle
    this.#onInternalError = onInternalError
    this.#registeredMethod = registeredMethod
  }

  /**
   * Answers the request; never throws and never rejects (an internal fault becomes a 500).
   *
   * @param client Given when the request is logged: filled in with the client the request names.
   */
  handle(request: FormRequest, client?: RequestClient): EndpointResponse | Promise<EndpointResponse> {
    try {
      const authorization = singleAuthorization(request.authorization)
      if (typeof authorization === 'object') return authorization
      const form = readForm(request.contentType, request.body)
      if (form.error) return form.error
      const { clientCertificate } = request
      if (client !== undefined) {
        const hasCertificate = clientCertificate !== undefined
        describeRequestClient(client, authorization, form.params, hasCertificate, this.#registeredMethod)
      }
      const certificate =
        clientCertificate === undefined ? undefined : presentedCertificate(clientCertificate)
      const result = this.#handle(authorization, form.params, request.source, request.dpop, certificate)
      return result instanceof Promise ? result.catch((error: unknown) => this.#fault(error)) : result
    } catch (error) {
      return this.#fault(error)
    }
  }

  #fault(error: unknown): EndpointResponse {
    try {
      this.#onInternalError(error)
    } catch {
      // A failing logger must not turn a 500 into an unhandled rejection.
    }
    // The store failed (a shared store down or slow): the request may succeed once it is back.
    if (isStoreUnavailable(error)) return storeUnavailableAnswer()
    return oauthError(500, 'server_error', 'internal error')
  }
}

/**
 * The one `Authorization` header of a request, or a 400 when there are several. Node keeps the
 * first of repeated headers while a proxy may read the last, so the two could disagree on who is
 * calling. A web `Headers` object joins repeats with ", ", and no Basic credential holds a comma
 * (base64 has none), so a comma is refused as a repeat too.
 */
function singleAuthorization(values: readonly string[]): string | undefined | EndpointResponse {
  if (values.length === 0) return undefined
  if (values.length > 1 || values[0]!.includes(',')) {
    return oauthError(400, 'invalid_request', 'the request holds more than one Authorization header')
  }
  return values[0]
}

/**
 * The default `onInternalError`: the error's name and message on stderr, nothing else, as an
 * internal error's other properties could hold request data.
 */
export function writeInternalErrorToStderr(error: unknown): void {
  const summary = error instanceof Error ? `${error.name}: ${error.message}` : 'non-Error value thrown'
  process.stderr.write(`[m2m-server] internal error: ${summary}\n`)
}

/**
 * What a (method, path) pair leads to: an answer at once, a form route that needs the body, or an
 * answer that needs the store first (`/readyz`; never rejects).
 */
export type Route = EndpointResponse | FormRoute | Promise<EndpointResponse>

const JWKS_REFRESH_MS = 5000
const POST_ONLY = { allow: 'POST' }
const GET_ONLY = { allow: 'GET, HEAD' }

/** The server bound to one issuer. */
export class ServerCore {
  /** Endpoint URLs and paths. */
  readonly locations: EndpointLocations
  readonly #endpointNames: EndpointNames
  readonly #state: ServerState
  #metadata: ServerMetadata
  #metadataBody: string
  readonly #routes: Map<string, FormRoute>
  readonly #registration: RegistrationRoutes | undefined
  #jwksBody: string | undefined
  #jwksBuiltAtMs = 0
  /** The key set's generation the cached JWKS was built from: a rotation on any instance changes it. */
  #jwksGeneration = -1

  constructor(issuer: string, state: ServerState) {
    this.#state = state
    const { config, registry, hasher, limiter, store, keys } = state
    const locations = endpointLocations(issuer, config.endpoints, config.registration !== undefined)
    this.locations = locations
    this.#endpointNames = new EndpointNames(locations, config.mtls?.endpointAliases)
    const { registrationEndpoint } = locations
    this.#registration =
      registrationEndpoint === undefined ? undefined : state.registrationAt?.(registrationEndpoint)
    this.#metadata = buildMetadata(locations, registry.allScopes(), this.#dpopAlgorithms(), config.mtls)
    if (this.#state.config.profile === 'fapi2') this.#metadata = fapi2Metadata(this.#metadata)
    this.#metadataBody = JSON.stringify(this.#metadata)
    const authenticator = new ClientAuthenticator({
      registry,
      hasher,
      limiter,
      store,
      issuer,
      tokenEndpoint: locations.tokenEndpoint,
      realm: config.realm,
      assertionMaxLifetimeSec: config.assertionMaxLifetimeSec,
      clockToleranceSec: config.clockToleranceSec,
      strictAssertionAudience: config.strictAssertionAudience,
      fapi2: config.profile === 'fapi2',
      mtls: config.mtls,
      now: config.now,
    })
    const defaultAudience = config.defaultAudience ?? issuer
    const defaultResource = config.resources.find((r) => r.resource === defaultAudience)
    const resources = new ResourceResolver(
      config.resources,
      {
        audience: defaultResource?.audience ?? defaultAudience,
        format: defaultResource?.tokenFormat ?? config.tokenFormat,
        lifetimeSec: defaultResource?.accessTokenLifetimeSec ?? config.accessTokenLifetimeSec,
      },
      config.defaultAudience,
    )
    const tokenIssuer = new AccessTokenIssuer({
      issuer,
      keys,
      store,
      now: config.now,
      typ: config.accessTokenTyp,
      beforeSign: config.beforeSign,
    })
    // One per URL: a DPoP proof's htu and an assertion's aud name the URL the client called.
    const tokenAt = (url: string): FormHandler => {
      const endpoint = new TokenEndpoint({
        url,
        authenticator,
        resources,
        issuer: tokenIssuer,
        dpop: new TokenRequestDpop({ url, settings: config.dpop, store, now: config.now }),
        bindAllToCertificate: config.mtls?.certificateBoundAccessTokens === true,
        senderConstrained: config.profile === 'fapi2',
      })
      return (a, p, s, d, c) => endpoint.handle(a, p, s, d, c)
    }
    const lookup = new TokenLookup({ keys, store, now: config.now, typ: config.accessTokenTyp })
    const introspectionAt = (url: string): FormHandler => {
      const endpoint = new IntrospectionEndpoint(url, authenticator, lookup)
      return (a, p, s, _d, c) => endpoint.handle(a, p, s, c)
    }
    const revocationAt = (url: string): FormHandler => {
      const endpoint = new RevocationEndpoint(url, authenticator, lookup, config.now)
      return (a, p, s, _d, c) => endpoint.handle(a, p, s, c)
    }
    const onError = config.onInternalError
    const registeredMethod = (clientId: string) => registry.get(clientId)?.method
    const route = (handler: FormHandler) => new FormRoute(handler, onError, registeredMethod)
    this.#routes = new Map([
      [locations.paths.token, route(tokenAt(locations.tokenEndpoint))],
      [locations.paths.introspect, route(introspectionAt(locations.introspectionEndpoint))],
      [locations.paths.revoke, route(revocationAt(locations.revocationEndpoint))],
    ])
    const aliases = config.mtls?.endpointAliases ?? {}
    const aliasRoutes: [string | undefined, string, (url: string) => FormHandler][] = [
      [aliases.token_endpoint, locations.paths.token, tokenAt],
      [aliases.introspection_endpoint, locations.paths.introspect, introspectionAt],
      [aliases.revocation_endpoint, locations.paths.revoke, revocationAt],
    ]
    for (const [alias, ownPath, endpointAt] of aliasRoutes) {
      if (alias === undefined) continue
      const path = new URL(alias).pathname
      if (path === ownPath) continue
      if (
        this.#routes.has(path) ||
        locations.paths.jwks === path ||
        locations.paths.metadata.includes(path)
      ) {
        throw new ConfigurationError(
          `invalid server configuration: mtls.endpointAliases gives ${alias} the path of another endpoint`,
        )
      }
      this.#routes.set(path, route(endpointAt(alias)))
    }
  }

  /** The RFC 8414 metadata document. */
  get metadata(): ServerMetadata {
    return this.#metadata
  }

  /** Rebuilds the metadata document after the registered clients changed (`scopes_supported`). */
  clientsChanged(): void {
    const { registry, config } = this.#state
    this.#metadata = buildMetadata(this.locations, registry.allScopes(), this.#dpopAlgorithms(), config.mtls)
    if (this.#state.config.profile === 'fapi2') this.#metadata = fapi2Metadata(this.#metadata)
    this.#metadataBody = JSON.stringify(this.#metadata)
  }

  /** The algorithms `dpop_signing_alg_values_supported` names; none when DPoP is disabled. */
  #dpopAlgorithms(): readonly string[] {
    const { dpop } = this.#state.config
    return dpop.mode === 'disabled' ? [] : dpop.algorithms
  }

  /** Forgets the cached JWKS document, so that the next `GET /jwks` shows a rotation at once. */
  invalidateJwks(): void {
    this.#jwksBody = undefined
  }

  /** The endpoint a request target routes to, for the request diagnostics; `undefined` for none. */
  endpointOf(url: string): ServerEndpoint | undefined {
    return this.#endpointNames.of(url)
  }

  /**
   * Routes a request.
   *
   * @param method The HTTP method, upper case.
   * @param url The request target: a path with an optional query.
   */
  route(method: string, url: string): Route {
    const query = url.indexOf('?')
    const path = query === -1 ? url : url.slice(0, query)
    const formRoute = this.#routes.get(path)
    if (formRoute !== undefined) {
      if (method === 'POST') return formRoute
      return oauthError(405, 'invalid_request', 'this endpoint accepts POST only', POST_ONLY)
    }
    const paths = this.locations.paths
    if (path === paths.jwks || paths.metadata.includes(path)) {
      if (method !== 'GET' && method !== 'HEAD') {
        return oauthError(405, 'invalid_request', 'this endpoint accepts GET only', GET_ONLY)
      }
      return path === paths.jwks ? publicJson(this.#jwks(), 60) : publicJson(this.#metadataBody, 3600)
    }
    if (path === HEALTH_PATH || path === READY_PATH) {
      if (method !== 'GET' && method !== 'HEAD') {
        return oauthError(405, 'invalid_request', 'this endpoint accepts GET only', GET_ONLY)
      }
      return path === HEALTH_PATH ? healthAnswer() : readinessAnswer(this.#state.store)
    }
    return this.#registration?.route(method, path) ?? oauthError(404, 'not_found', 'no such endpoint')
  }

  #jwks(): string {
    const now = this.#state.config.now()
    // Retired keys drop out of the set as time passes, so the cached document also ages out.
    const { keys } = this.#state
    if (
      this.#jwksBody === undefined ||
      keys.generation !== this.#jwksGeneration ||
      now - this.#jwksBuiltAtMs > JWKS_REFRESH_MS
    ) {
      this.#jwksBody = JSON.stringify(keys.publicJwks(now))
      this.#jwksBuiltAtMs = now
      this.#jwksGeneration = keys.generation
    }
    return this.#jwksBody
  }
}
