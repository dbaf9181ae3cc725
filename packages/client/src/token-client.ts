/**
 * `createTokenClient`: the public face of the client. It turns call parameters into cache keys
 * and wires `fetch` and the interceptor to the tokens; keeping tokens is the job of
 * reuse-token-source, getting them from the server that of server-token-source.
 *
 * @module token-client
 */
import { tlsClientDispatcher } from '@oauth-m2m/core/internal/tls'
import type { Dispatcher, RequestInfo, RequestInit, Response } from 'undici'
import {
  type AllowedOriginsOptions,
  allowedOrigins,
  NO_TARGETS,
  normalizeOrigins,
} from './allowed-origins.js'
import { type AuthorizedFetch, createAuthorizedFetch } from './authorized-fetch.js'
import { ClientClosedError } from './errors.js'
import { createTokenInterceptor } from './interceptor.js'
import { type ResolvedOptions, resolveOptions, type TokenClientOptions } from './options.js'
import type { AccessTokenSource } from './resource-credentials.js'
import { ReuseTokenSource } from './reuse-token-source.js'
import { ServerTokenSource } from './server-token-source.js'
import { type TokenParams, type TokenRequestKey, TokenRequestKeys } from './token-request-key.js'
import type { TokenSet } from './token-set.js'

/** Options of {@link TokenClient.interceptor}. */
export interface InterceptorOptions {
  /** Scopes of the token attached (default: the client's `scope`). */
  scope?: string | readonly string[]
  /** Resource indicators of the token attached (default: the client's `resource`). */
  resource?: string | readonly string[]
  /** Audiences of the token attached (default: the client's `audience`). */
  audience?: string | readonly string[]
  /** Extra token-request parameters, merged over the client's. */
  extraParams?: Readonly<Record<string, string>>
  /**
   * Origins that get the token. Default: the client's `origins`, else the origins of the
   * token's resource indicators and URL audiences (this interceptor's `resource` and `audience`,
   * each else the client's).
   */
  origins?: readonly string[]
}

/** A client_credentials token client. Create it with {@link createTokenClient}. */
export interface TokenClient {
  /**
   * A valid access token for `params` (default: the client's scope, resource and extra
   * parameters): from memory when fresh, from memory at once while a background refresh runs
   * when stale, else fetched (one request for all concurrent callers).
   *
   * @throws {OAuthResponseError} the server refused (`invalid_client`, `invalid_scope`, …).
   * @throws {HttpError} / {NetworkError} / {TimeoutError} after the retries.
   * @throws {RetryLaterError} the server asked for a pause that has not passed and no valid token is cached.
   * @throws {ClientClosedError} after `close()`.
   */
  getToken(params?: TokenParams): Promise<TokenSet>
  /**
   * Forgets the cached token for `params` (default: the client's defaults), in memory and in the
   * store, and ends a `Retry-After` hold-back of that key: the next call asks the server.
   */
  invalidate(params?: Omit<TokenParams, 'signal'>): void
  /**
   * undici's `fetch` with `Authorization: Bearer` added for allowed origins (`origins`, else
   * the origins of `resource` and of URL `audience`s; with none it rejects with a `ConfigurationError`) —
   * or, with the `dpop` option, `Authorization: DPoP` and a fresh `DPoP` proof (with `ath`) per
   * request. Requests to other origins are sent untouched; a request that already has an
   * `Authorization` header is sent as is. When no token can be obtained the request is not sent
   * ({@link TokenUnavailableError}). A 401 with `error="invalid_token"` drops the token and the
   * request is sent once more with a new one if its body can be replayed (not a stream); so is,
   * once, a 401 `DPoP error="use_dpop_nonce"` with a `DPoP-Nonce`, with a proof carrying it.
   * With a mutual-TLS `auth` (and no `dispatcher` option), requests to the allowed origins present
   * its certificate (RFC 8705 §3, certificate-bound tokens); other origins never see it. A
   * dispatcher passed in `init` is used as is.
   */
  fetch(input: RequestInfo, init?: RequestInit): Promise<Response>
  /**
   * An undici interceptor with the same rules as {@link TokenClient.fetch}:
   * `new Agent().compose(client.interceptor())`. With a mutual-TLS `auth` (and no `dispatcher`
   * option), the allowed origins' requests are dispatched through the client's `Agent` presenting
   * the certificate rather than the one composed; other origins' go through the composed one.
   *
   * @throws {ConfigurationError} when no origin is allowed (see `origins`).
   */
  interceptor(options?: InterceptorOptions): Dispatcher.DispatcherComposeInterceptor
  /**
   * Stops the client: in-flight requests and retry waits are cancelled, memory is cleared, and
   * every later call rejects with {@link ClientClosedError}. Resolves when in-flight work has
   * settled. Background work (refreshes and their retry waits) never keeps the process alive; a
   * pending `getToken` (or `fetch` waiting for its token) does, until it has its answer.
   */
  close(): Promise<void>
}

class DefaultTokenClient implements TokenClient {
  readonly #options: ResolvedOptions
  readonly #requestKeys: TokenRequestKeys
  readonly #tokens: ReuseTokenSource
  /** A mutual-TLS client's `Agent` presenting its certificate, when it has no dispatcher of its own. */
  readonly #certificateDispatcher: Dispatcher | undefined
  #fetch: AuthorizedFetch | undefined

  constructor(options: ResolvedOptions) {
    this.#options = options
    this.#requestKeys = new TokenRequestKeys(
      options.tokenEndpoint ?? `issuer:${options.issuer}`,
      options.clientId,
      {
        scopes: options.scopes,
        resources: options.resources,
        audiences: options.audiences,
        extraParams: options.extraParams,
      },
      { jkt: options.dpop?.jkt, x5t: options.auth.tls?.thumbprint },
    )
    this.#tokens = new ReuseTokenSource(new ServerTokenSource(options), options)
    const { tls } = options.auth
    this.#certificateDispatcher =
      tls !== undefined && options.dispatcher === undefined ? tlsClientDispatcher(tls) : undefined
  }

  getToken(params?: TokenParams): Promise<TokenSet> {
    if (params === undefined) return this.#tokens.token(this.#requestKeys.defaultKey, undefined)
    let requestKey: TokenRequestKey
    try {
      requestKey = this.#requestKeys.keyFor(params)
    } catch (error) {
      return Promise.reject(error)
    }
    return this.#tokens.token(requestKey, params.signal)
  }

  invalidate(params?: Omit<TokenParams, 'signal'>): void {
    if (this.#tokens.closed) throw new ClientClosedError()
    this.#tokens.forget(
      (params === undefined ? this.#requestKeys.defaultKey : this.#requestKeys.keyFor(params)).cacheKey,
    )
  }

  fetch(input: RequestInfo, init?: RequestInit): Promise<Response> {
    if (this.#tokens.closed) return Promise.reject(new ClientClosedError())
    if (this.#fetch === undefined) {
      let origins: ReadonlySet<string>
      try {
        const { resources, audiences } = this.#requestKeys.defaultKey
        origins = allowedOrigins(
          this.#options.origins,
          { resources, audiences },
          this.#originRule('client.fetch'),
        )
      } catch (error) {
        return Promise.reject(error)
      }
      this.#fetch = createAuthorizedFetch(
        this.#accessTokenSource(this.#requestKeys.defaultKey),
        origins,
        this.#options.dispatcher,
        this.#certificateDispatcher,
      )
    }
    return this.#fetch(input, init)
  }

  interceptor(options: InterceptorOptions = {}): Dispatcher.DispatcherComposeInterceptor {
    if (this.#tokens.closed) throw new ClientClosedError()
    const requestKey = this.#requestKeys.keyFor(options)
    const origins =
      options.origins !== undefined
        ? allowedOrigins(
            normalizeOrigins('client.interceptor: origins', options.origins, this.#options),
            NO_TARGETS,
            this.#originRule('client.interceptor'),
          )
        : allowedOrigins(this.#options.origins, requestKey, this.#originRule('client.interceptor'))
    return createTokenInterceptor(this.#accessTokenSource(requestKey), origins, this.#certificateDispatcher)
  }

  close(): Promise<void> {
    return this.#tokens.close()
  }

  #originRule(where: string): AllowedOriginsOptions {
    return { where, allowInsecureHttp: this.#options.allowInsecureHttp }
  }

  #accessTokenSource(requestKey: TokenRequestKey): AccessTokenSource {
    return {
      token: (signal) => this.#tokens.token(requestKey, signal),
      rejected: (accessToken) => this.#tokens.rejected(requestKey.cacheKey, accessToken),
      dpop: this.#options.dpop,
    }
  }
}

/**
 * Creates a token client for the client_credentials requestKey.
 *
 * ```ts
 * const client = createTokenClient({
 *   issuer: 'https://as.example.com',
 *   clientId: 'service-a',
 *   auth: clientSecretBasic(process.env.CLIENT_SECRET!),
 *   scope: 'read:things',
 *   resource: 'https://api.b.example.com',
 * })
 * const { accessToken } = await client.getToken()
 * ```
 *
 * @throws {ConfigurationError} when an option is invalid.
 */
export function createTokenClient(options: TokenClientOptions): TokenClient {
  return new DefaultTokenClient(resolveOptions(options))
}
