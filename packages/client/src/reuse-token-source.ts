/**
 * Reusing tokens until they need replacing, as Go's `x/oauth2` `ReuseTokenSource` wraps a token
 * source, but per cache key: a token is fresh, then stale (served at once while one background
 * refresh runs), then expired (callers wait); concurrent callers of a key share one request;
 * failures are never cached; a shared store is read before the server is asked; a key the server
 * asked to pause is not asked for again before then. Getting a token from the server is the
 * wrapped source's job (see server-token-source).
 *
 * @module reuse-token-source
 */
import { abortable } from '@oauth-m2m/core/internal'
import type { Backoff } from './backoff-gate.js'
import { clientEvents } from './client-events.js'
import type { DpopProver } from './dpop/dpop-prover.js'
import { ClientClosedError, RetryLaterError } from './errors.js'
import { holdProcessUntilSettled } from './process-hold.js'
import { SingleFlight } from './single-flight.js'
import { type CacheEntry, TokenCache } from './token-cache.js'
import {
  boundLifetime,
  type LifecycleTimings,
  refreshRetryDelayMs,
  scheduleToken,
  type TokenSchedule,
  tokenState,
} from './token-lifecycle.js'
import type { TokenRequestKey } from './token-request-key.js'
import type { TokenSet } from './token-set.js'
import type { TokenStore } from './token-store.js'

/** Where new tokens come from: the authorization server, in the client (see server-token-source). */
export interface TokenSource {
  /** A new token for `requestKey`; `background` when no caller waits for it. */
  fetchToken(requestKey: TokenRequestKey, options: { background: boolean }): Promise<TokenSet>
  /** The pause the server asked for that `key` is in at `nowMs`, or `undefined`. */
  heldBack(key: string, nowMs: number): Backoff | undefined
  /** Ends the pause of `key`. */
  release(key: string): void
  /** Cancels requests in flight with `reason`. */
  close(reason: Error): void
}

/** What the reuse layer needs to know: a part of the client's resolved options. */
export interface ReuseTokenSourceSettings {
  timings: LifecycleTimings
  store: TokenStore | undefined
  storeTimeoutMs: number
  maxCacheEntries: number
  /** The client's DPoP state: which token types a stored token may have. */
  dpop: DpopProver | undefined
  /** Clock, epoch ms. */
  now: () => number
}

/** Options of {@link ReuseTokenSource} `#load`. */
interface LoadOptions {
  /** `true` for the refresh of a stale token, which no caller waits for. */
  background: boolean
}

/** Options of {@link ReuseTokenSource} `#keep`. */
interface KeepOptions {
  /** Write the token to the shared store too (not when it came from there). */
  saveToStore: boolean
}

/** Cached tokens per key in front of a {@link TokenSource}. */
export class ReuseTokenSource {
  readonly #source: TokenSource
  readonly #settings: ReuseTokenSourceSettings
  readonly #cache: TokenCache
  readonly #flights = new SingleFlight<TokenSet>()
  readonly #now: () => number
  #closed = false

  constructor(source: TokenSource, settings: ReuseTokenSourceSettings) {
    this.#source = source
    this.#settings = settings
    this.#now = settings.now
    this.#cache = new TokenCache({
      maxEntries: settings.maxCacheEntries,
      store: settings.store,
      storeTimeoutMs: settings.storeTimeoutMs,
      reportStoreError: clientEvents.storeError,
      tokenTypes:
        settings.dpop === undefined
          ? ['Bearer']
          : settings.dpop.allowBearerFallback
            ? ['DPoP', 'Bearer']
            : ['DPoP'],
    })
  }

  /** Whether {@link ReuseTokenSource.close} was called. */
  get closed(): boolean {
    return this.#closed
  }

  /**
   * A valid token for `requestKey`: from memory when fresh or stale, else from the store or the
   * source, one request for all concurrent callers. `signal` stops this caller's wait only.
   */
  token(requestKey: TokenRequestKey, signal: AbortSignal | undefined): Promise<TokenSet> {
    if (this.#closed) return Promise.reject(new ClientClosedError())
    // The hot path: one map lookup and an already resolved promise, no await.
    const entry = this.#cache.get(requestKey.cacheKey)
    if (entry !== undefined) {
      const at = this.#now()
      if (at < entry.schedule.refreshAt) {
        clientEvents.cacheHit(requestKey.cacheKey, entry.token.expiresAt)
        return entry.promise
      }
      if (at < entry.schedule.expiredAt) {
        clientEvents.cacheStale(requestKey.cacheKey, entry.token.expiresAt)
        this.#refreshInBackground(requestKey, entry, at)
        return entry.promise
      }
    }
    return this.#acquire(requestKey, signal)
  }

  /** Forgets the token of `key` (memory and store) and ends its pause: the next call asks the server. */
  forget(key: string): void {
    this.#cache.forget(key)
    this.#source.release(key)
  }

  /** A resource server refused `accessToken`: forget it, unless a newer token replaced it meanwhile. */
  rejected(key: string, accessToken: string): void {
    const entry = this.#cache.get(key)
    if (entry !== undefined && entry.token.accessToken === accessToken) this.#cache.forget(key)
  }

  /** Cancels work in flight, clears memory, and resolves when in-flight work has settled. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#source.close(new ClientClosedError())
    this.#cache.clear()
    await Promise.allSettled(this.#flights.pending())
  }

  /** A cache miss or an expired token: wait for the shared request, unless the server asked for a pause. */
  #acquire(requestKey: TokenRequestKey, signal: AbortSignal | undefined): Promise<TokenSet> {
    clientEvents.cacheMiss(requestKey.cacheKey)
    if (!this.#flights.has(requestKey.cacheKey)) {
      const backoff = this.#source.heldBack(requestKey.cacheKey, this.#now())
      if (backoff !== undefined) {
        return Promise.reject(new RetryLaterError(backoff.remainingMs, { cause: backoff.cause }))
      }
    }
    // The caller waits for this answer, so the process must not end before it, even when the
    // flight is a background refresh (unref'ed waits) that this caller joined.
    return holdProcessUntilSettled(
      abortable(
        this.#flights.run(requestKey.cacheKey, () => this.#load(requestKey, { background: false })),
        signal,
      ),
    )
  }

  #refreshInBackground(requestKey: TokenRequestKey, entry: CacheEntry, at: number): void {
    if (at < entry.refreshRetryAt || this.#flights.has(requestKey.cacheKey)) return
    if (this.#source.heldBack(requestKey.cacheKey, at) !== undefined) return
    this.#flights
      .run(requestKey.cacheKey, () => this.#load(requestKey, { background: true }))
      .then(undefined, (error: Error) => {
        if (this.#closed) return
        entry.refreshFailures++
        entry.refreshRetryAt = this.#now() + refreshRetryDelayMs(entry.refreshFailures)
        clientEvents.refreshFailed(requestKey.cacheKey, error, entry.refreshRetryAt)
      })
  }

  /** Adopts a fresh token from the shared store when there is one, else fetches one. */
  async #load(requestKey: TokenRequestKey, { background }: LoadOptions): Promise<TokenSet> {
    const { timings } = this.#settings
    if (this.#cache.hasStore) {
      const loaded = await this.#cache.load(requestKey.cacheKey)
      if (this.#closed) throw new ClientClosedError()
      // A store is shared and may hold what another (older, misconfigured) client wrote.
      const stored = loaded && boundLifetime(loaded, timings.maxLifetimeMs, this.#now())
      const current = this.#cache.get(requestKey.cacheKey)
      if (stored !== undefined && stored.accessToken !== current?.token.accessToken) {
        const schedule = scheduleToken(stored, timings)
        if (tokenState(schedule, this.#now()) === 'fresh') {
          this.#keep(requestKey.cacheKey, stored, schedule, { saveToStore: false })
          return stored
        }
      }
    }
    const fetched = await this.#source.fetchToken(requestKey, { background })
    const token = boundLifetime(fetched, timings.maxLifetimeMs, this.#now())
    if (this.#closed) throw new ClientClosedError()
    this.#keep(requestKey.cacheKey, token, scheduleToken(token, timings), { saveToStore: true })
    return token
  }

  #keep(key: string, token: TokenSet, schedule: TokenSchedule, { saveToStore }: KeepOptions): void {
    this.#cache.remember(key, token, schedule)
    if (saveToStore) this.#cache.save(key, token, token.expiresAt - this.#now())
    clientEvents.refreshScheduled(key, schedule)
  }
}
