/**
 * `createTokenClient`: ties the pieces together. Per cache key a token is fresh, then stale
 * (served at once while one background refresh runs), then expired (callers wait); concurrent
 * callers of a key share one request; failures are never cached; a server that asked for a pause
 * (429/503 + Retry-After) is left alone until then.
 *
 * @module token-client
 */
import { DiscoveryError, discover } from '@oauth-m2m/core'
import { abortable } from '@oauth-m2m/core/internal'
import type { Dispatcher, RequestInfo, RequestInit, Response } from 'undici'
import { allowedOrigins } from './allowed-origins.js'
import { type AuthorizedFetch, type BearerSource, createAuthorizedFetch } from './authorized-fetch.js'
import { BackoffGate } from './backoff-gate.js'
import { type TokenGrant, TokenGrants, type TokenParams } from './cache-key.js'
import { channels } from './diagnostics.js'
import { ClientClosedError, RetryLaterError } from './errors.js'
import { createBearerInterceptor } from './interceptor.js'
import { normalizeOrigins, type ResolvedOptions, resolveOptions, type TokenClientOptions } from './options.js'
import { holdProcessUntilSettled } from './process-hold.js'
import { honouredRetryAfterMs, withRetry } from './retry.js'
import { SingleFlight } from './single-flight.js'
import { type CacheEntry, TokenCache } from './token-cache.js'
import {
  boundLifetime,
  refreshRetryDelayMs,
  scheduleToken,
  type TokenSchedule,
  tokenState,
} from './token-lifecycle.js'
import { requestToken, type TokenEndpointTarget } from './token-request.js'
import type { TokenSet } from './token-set.js'

/** Options of {@link TokenClient.interceptor}. */
export interface InterceptorOptions {
  /** Scopes of the token attached (default: the client's `scope`). */
  scope?: string | readonly string[]
  /** Resource indicators of the token attached (default: the client's `resource`). */
  resource?: string | readonly string[]
  /** Extra token-request parameters, merged over the client's. */
  extraParams?: Readonly<Record<string, string>>
  /**
   * Origins that get the token. Default: the client's `origins`, else the origins of this
   * interceptor's `resource`, else of the client's `resource`.
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
   * the origins of `resource`; with neither it rejects with a `ConfigurationError`). Requests to
   * other origins are sent untouched; a request that already has an `Authorization` header is
   * sent as is. When no token can be obtained the request is not sent
   * ({@link TokenUnavailableError}). A 401 with `error="invalid_token"` drops the token and the
   * request is sent once more with a new one if its body can be replayed (not a stream).
   */
  fetch(input: RequestInfo, init?: RequestInit): Promise<Response>
  /**
   * An undici interceptor with the same rules as {@link TokenClient.fetch}:
   * `new Agent().compose(client.interceptor())`.
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

/** Monotonic time for durations, unaffected by the injectable wall clock. */
const monotonicMs = () => performance.now()

class DefaultTokenClient implements TokenClient {
  readonly #options: ResolvedOptions
  readonly #grants: TokenGrants
  readonly #cache: TokenCache
  readonly #flights = new SingleFlight<TokenSet>()
  readonly #gate: BackoffGate
  readonly #lifetime = new AbortController()
  readonly #now: () => number
  #target: TokenEndpointTarget | undefined
  #fetch: AuthorizedFetch | undefined
  #closed = false

  constructor(options: ResolvedOptions) {
    this.#options = options
    this.#now = options.now
    this.#grants = new TokenGrants(options.tokenEndpoint ?? `issuer:${options.issuer}`, options.clientId, {
      scopes: options.scopes,
      resources: options.resources,
      extraParams: options.extraParams,
    })
    this.#cache = new TokenCache({
      maxEntries: options.maxCacheEntries,
      store: options.store,
      storeTimeoutMs: options.storeTimeoutMs,
      reportStoreError: (key, operation, error) => {
        if (channels.storeError.hasSubscribers) channels.storeError.publish({ key, operation, error })
      },
    })
    this.#gate = new BackoffGate(options.maxCacheEntries)
    if (options.tokenEndpoint !== undefined) {
      this.#target = this.#targetFor(options.tokenEndpoint)
    }
  }

  getToken(params?: TokenParams): Promise<TokenSet> {
    if (params === undefined) return this.#tokenFor(this.#grants.defaultGrant, undefined)
    let grant: TokenGrant
    try {
      grant = this.#grants.grantFor(params)
    } catch (error) {
      return Promise.reject(error)
    }
    return this.#tokenFor(grant, params.signal)
  }

  #tokenFor(grant: TokenGrant, signal: AbortSignal | undefined): Promise<TokenSet> {
    if (this.#closed) return Promise.reject(new ClientClosedError())
    // The hot path: one map lookup and an already resolved promise, no await.
    const entry = this.#cache.get(grant.key)
    if (entry !== undefined) {
      const at = this.#now()
      if (at < entry.schedule.refreshAt) {
        if (channels.cacheHit.hasSubscribers) {
          channels.cacheHit.publish({ key: grant.key, expiresAt: entry.token.expiresAt })
        }
        return entry.promise
      }
      if (at < entry.schedule.expiredAt) {
        if (channels.cacheStale.hasSubscribers) {
          channels.cacheStale.publish({ key: grant.key, expiresAt: entry.token.expiresAt })
        }
        this.#refreshInBackground(grant, entry, at)
        return entry.promise
      }
    }
    return this.#acquire(grant, signal)
  }

  invalidate(params?: Omit<TokenParams, 'signal'>): void {
    if (this.#closed) throw new ClientClosedError()
    const key = (params === undefined ? this.#grants.defaultGrant : this.#grants.grantFor(params)).key
    this.#cache.forget(key)
    // The caller has a reason to ask again now (a rotated secret, a fixed server): a Retry-After
    // pause must not outlive that.
    this.#gate.clear(key)
  }

  fetch(input: RequestInfo, init?: RequestInit): Promise<Response> {
    if (this.#closed) return Promise.reject(new ClientClosedError())
    if (this.#fetch === undefined) {
      let origins: ReadonlySet<string>
      try {
        origins = allowedOrigins(this.#options.origins, this.#options.resources, 'client.fetch')
      } catch (error) {
        return Promise.reject(error)
      }
      this.#fetch = createAuthorizedFetch(
        this.#bearerSource(this.#grants.defaultGrant),
        origins,
        this.#options.dispatcher,
      )
    }
    return this.#fetch(input, init)
  }

  interceptor(options: InterceptorOptions = {}): Dispatcher.DispatcherComposeInterceptor {
    if (this.#closed) throw new ClientClosedError()
    const grant = this.#grants.grantFor(options)
    const origins =
      options.origins !== undefined
        ? allowedOrigins(
            normalizeOrigins('client.interceptor: origins', options.origins),
            [],
            'client.interceptor',
          )
        : allowedOrigins(this.#options.origins, grant.resources, 'client.interceptor')
    return createBearerInterceptor(this.#bearerSource(grant), origins)
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#lifetime.abort(new ClientClosedError())
    this.#cache.clear()
    this.#gate.clearAll()
    await Promise.allSettled(this.#flights.pending())
  }

  #bearerSource(grant: TokenGrant): BearerSource {
    return {
      token: (signal) => this.#tokenFor(grant, signal),
      rejected: (accessToken) => {
        const entry = this.#cache.get(grant.key)
        // Only the token that was rejected: a newer one, fetched meanwhile, stays.
        if (entry !== undefined && entry.token.accessToken === accessToken) this.#cache.forget(grant.key)
      },
    }
  }

  /** A cache miss or an expired token: wait for the shared request, unless the server asked for a pause. */
  #acquire(grant: TokenGrant, signal: AbortSignal | undefined): Promise<TokenSet> {
    if (channels.cacheMiss.hasSubscribers) channels.cacheMiss.publish({ key: grant.key })
    if (!this.#flights.has(grant.key)) {
      const backoff = this.#gate.check(grant.key, this.#now())
      if (backoff !== undefined) {
        return Promise.reject(new RetryLaterError(backoff.remainingMs, { cause: backoff.cause }))
      }
    }
    // The caller waits for this answer, so the process must not end before it, even when the
    // flight is a background refresh (unref'ed waits) that this caller joined.
    return holdProcessUntilSettled(
      abortable(
        this.#flights.run(grant.key, () => this.#load(grant, false)),
        signal,
      ),
    )
  }

  #refreshInBackground(grant: TokenGrant, entry: CacheEntry, at: number): void {
    if (at < entry.refreshRetryAt || this.#flights.has(grant.key)) return
    if (this.#gate.check(grant.key, at) !== undefined) return
    this.#flights
      .run(grant.key, () => this.#load(grant, true))
      .then(undefined, (error: Error) => {
        if (this.#closed) return
        entry.refreshFailures++
        entry.refreshRetryAt = this.#now() + refreshRetryDelayMs(entry.refreshFailures)
        if (channels.refreshFailed.hasSubscribers) {
          channels.refreshFailed.publish({ key: grant.key, error, retryAt: entry.refreshRetryAt })
        }
      })
  }

  /** Adopts a fresh token from the shared store when there is one, else fetches one. */
  async #load(grant: TokenGrant, background: boolean): Promise<TokenSet> {
    const maxLifetimeMs = this.#options.timings.maxLifetimeMs
    if (this.#cache.hasStore) {
      const loaded = await this.#cache.load(grant.key)
      if (this.#closed) throw new ClientClosedError()
      // A store is shared and may hold what another (older, misconfigured) client wrote.
      const stored = loaded && boundLifetime(loaded, maxLifetimeMs, this.#now())
      const current = this.#cache.get(grant.key)
      if (stored !== undefined && stored.accessToken !== current?.token.accessToken) {
        const schedule = scheduleToken(stored, this.#options.timings)
        if (tokenState(schedule, this.#now()) === 'fresh') {
          this.#keep(grant.key, stored, schedule, false)
          return stored
        }
      }
    }
    const token = boundLifetime(await this.#request(grant, background), maxLifetimeMs, this.#now())
    if (this.#closed) throw new ClientClosedError()
    this.#keep(grant.key, token, scheduleToken(token, this.#options.timings), true)
    return token
  }

  #keep(key: string, token: TokenSet, schedule: TokenSchedule, save: boolean): void {
    this.#cache.remember(key, token, schedule)
    if (save) this.#cache.save(key, token, token.expiresAt - this.#now())
    if (channels.refreshScheduled.hasSubscribers) {
      channels.refreshScheduled.publish({ key, refreshAt: schedule.refreshAt, expiredAt: schedule.expiredAt })
    }
  }

  /** One token request with retries, reported on the fetch channels. */
  async #request(grant: TokenGrant, background: boolean): Promise<TokenSet> {
    const key = grant.key
    const started = monotonicMs()
    let attempts = 0
    if (channels.fetchStart.hasSubscribers) {
      channels.fetchStart.publish({
        key,
        clientId: this.#options.clientId,
        server: this.#options.tokenEndpoint ?? this.#options.issuer,
        scopes: grant.scopes,
        resources: grant.resources,
        background,
      })
    }
    try {
      const target = this.#target ?? (await this.#discoverTarget())
      const signal = this.#lifetime.signal
      const token = await withRetry(
        async (attempt, remainingMs) => {
          attempts = attempt
          try {
            return await requestToken(target, grant, {
              timeoutMs: Math.ceil(Math.min(this.#options.timeoutMs, remainingMs)),
              maxResponseBytes: this.#options.maxResponseBytes,
              defaultExpiresInMs: this.#options.timings.defaultExpiresInMs,
              now: this.#now,
              signal,
            })
          } catch (error) {
            this.#noteBackoff(key, error)
            throw error
          }
        },
        this.#options.retry,
        {
          signal,
          onRetry: ({ attempt, delayMs, error }) => {
            if (channels.fetchRetry.hasSubscribers)
              channels.fetchRetry.publish({ key, attempt, delayMs, error })
          },
        },
      )
      this.#gate.clear(key)
      if (channels.fetchEnd.hasSubscribers) {
        channels.fetchEnd.publish({
          key,
          attempts,
          durationMs: monotonicMs() - started,
          expiresAt: token.expiresAt,
          scope: token.scope,
        })
      }
      return token
    } catch (error) {
      if (channels.fetchError.hasSubscribers) {
        channels.fetchError.publish({ key, attempts, durationMs: monotonicMs() - started, error })
      }
      throw error
    }
  }

  /** A 429 or 503 with Retry-After holds the key back until then, for at most `maxRetryAfterSec`. */
  #noteBackoff(key: string, error: unknown): void {
    const { status } = error as { status?: unknown }
    if (status !== 429 && status !== 503) return
    const pauseMs = honouredRetryAfterMs(error, this.#options.retry.maxRetryAfterMs)
    if (pauseMs === undefined || pauseMs <= 0) return
    const until = this.#now() + pauseMs
    this.#gate.block(key, until, error as Error)
    if (channels.backoff.hasSubscribers) channels.backoff.publish({ key, until, status })
  }

  #targetFor(tokenEndpoint: string): TokenEndpointTarget {
    return {
      tokenEndpoint,
      issuer: this.#options.issuer,
      clientId: this.#options.clientId,
      auth: this.#options.auth,
      dispatcher: this.#options.dispatcher,
    }
  }

  /** The token endpoint from RFC 8414 metadata; discovery caches and de-duplicates per issuer. */
  async #discoverTarget(): Promise<TokenEndpointTarget> {
    const issuer = this.#options.issuer!
    const metadata = await discover(issuer, {
      timeoutMs: this.#options.timeoutMs,
      signal: this.#lifetime.signal,
      ...(this.#options.dispatcher ? { dispatcher: this.#options.dispatcher } : {}),
    })
    const endpoint = metadata.token_endpoint
    if (typeof endpoint !== 'string' || !URL.canParse(endpoint)) {
      throw new DiscoveryError(`the metadata of ${issuer} has no valid token_endpoint`)
    }
    const url = new URL(endpoint)
    const issuerUrl = new URL(issuer)
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && issuerUrl.protocol === 'http:')) {
      throw new DiscoveryError(`the token_endpoint of ${issuer} is not an https URL`)
    }
    this.#target = this.#targetFor(endpoint)
    return this.#target
  }
}

/**
 * Creates a token client for the client_credentials grant.
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
