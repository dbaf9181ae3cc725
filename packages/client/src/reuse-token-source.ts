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
import { loadPRetry } from './p-retry-loader.js'
import { holdProcessUntilSettled } from './process-hold.js'
import { SingleFlight } from './single-flight.js'
import { type CacheEntry, LOCK_HELD, STORE_FAILED, TokenCache } from './token-cache.js'
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
import type { TokenStore, TokenStoreLock } from './token-store.js'

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
  /** Longest wait for another process's token request (the holder of the store's lock), in ms. */
  storeLockWaitMs: number
  /** How long the store's lock is taken for, in ms: the token request's deadline and the store round trips around it. */
  storeLockTtlMs: number
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

/**
 * Pauses between two reads of a store that cannot notify (no `waitForToken`) while another
 * process fetches, in ms: short at first, since a token request usually takes tens of ms, then
 * growing so that a slow one is not met with a storm of reads.
 */
const POLL_MIN_DELAY_MS = 25
const POLL_MAX_DELAY_MS = 500

/** One step of waiting for another process that did not yield a token or the lock. */
class StillWaiting extends Error {
  constructor(
    /** Whether the step waited by itself (`waitForToken`), so no pause is needed before the next. */
    readonly waited: boolean,
  ) {
    super('another process holds the lock')
  }
}

/** What waiting for another process's token ends with. */
type WaitOutcome = { token: TokenSet } | { lock: TokenStoreLock } | undefined

/** Cached tokens per key in front of a {@link TokenSource}. */
export class ReuseTokenSource {
  readonly #source: TokenSource
  readonly #settings: ReuseTokenSourceSettings
  readonly #cache: TokenCache
  readonly #flights = new SingleFlight<TokenSet>()
  readonly #now: () => number
  /** Aborted by close(): ends waits for other processes at once. */
  readonly #lifetime = new AbortController()
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
    this.#lifetime.abort(new ClientClosedError())
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

  /**
   * Adopts a fresh token from the shared store when there is one, else fetches one. With a store
   * that can lock, one process of the fleet fetches while the others wait for its token (see
   * {@link ReuseTokenSource} `#loadOncePerFleet`).
   */
  async #load(requestKey: TokenRequestKey, { background }: LoadOptions): Promise<TokenSet> {
    if (!this.#cache.hasStore) return this.#fetch(requestKey, background, { saveToStore: true })
    const stored = await this.#adoptStored(requestKey.cacheKey)
    if (stored !== undefined && stored !== STORE_FAILED) return stored
    if (stored === STORE_FAILED || !this.#cache.canLock) {
      return this.#fetch(requestKey, background, { saveToStore: true })
    }
    return this.#loadOncePerFleet(requestKey, background)
  }

  /**
   * Distributed single flight: the process that takes the store's lock of the key reads the store
   * once more (another may have finished just before), fetches, stores the token and releases the
   * lock; a process that finds the lock held waits for that token, at most `storeLockWaitMs`, then
   * fetches its own. Any store failure on the way ends the coordination: the token is fetched.
   */
  async #loadOncePerFleet(requestKey: TokenRequestKey, background: boolean): Promise<TokenSet> {
    const key = requestKey.cacheKey
    const { storeLockTtlMs } = this.#settings
    let lock = await this.#cache.lock(key, storeLockTtlMs)
    if (lock === LOCK_HELD) {
      const outcome = await this.#waitForOtherProcess(key)
      if (outcome !== undefined && 'token' in outcome) return outcome.token
      lock = outcome?.lock ?? STORE_FAILED
    }
    if (this.#closed) {
      if (lock !== STORE_FAILED) void this.#cache.release(key, lock)
      throw new ClientClosedError()
    }
    if (lock === STORE_FAILED) return this.#fetch(requestKey, background, { saveToStore: true })
    try {
      const stored = await this.#adoptStored(key)
      if (stored !== undefined && stored !== STORE_FAILED) return stored
      const token = await this.#fetch(requestKey, background, { saveToStore: false })
      // Stored before the lock is released, so that the processes waiting find it.
      await this.#cache.store(key, token, token.expiresAt - this.#now())
      return token
    } finally {
      await this.#cache.release(key, lock)
    }
  }

  /**
   * Waits for the holder of `key`'s lock: its token (adopted), the lock (taken over when the
   * holder released it without a token, or its TTL ended), or `undefined` when `storeLockWaitMs`
   * passed or the store failed. The steps are paced by p-retry (loaded on first use): none between two
   * `waitForToken` calls (each waits by itself), a growing pause between two plain reads.
   */
  async #waitForOtherProcess(key: string): Promise<WaitOutcome> {
    const { storeLockWaitMs, storeLockTtlMs } = this.#settings
    if (storeLockWaitMs <= 0) return undefined
    const { default: pRetry, AbortError } = await loadPRetry()
    const started = performance.now()
    let taken: TokenStoreLock | undefined
    try {
      return await pRetry(
        async (): Promise<WaitOutcome> => {
          const remainingMs = Math.max(1, Math.ceil(storeLockWaitMs - (performance.now() - started)))
          const seen = await abortable(this.#cache.waitFor(key, remainingMs), this.#lifetime.signal)
          if (seen === STORE_FAILED) throw new AbortError('the token store failed')
          const token = seen && this.#adopt(key, seen)
          if (token !== undefined) return { token }
          const lock = await this.#cache.lock(key, storeLockTtlMs)
          if (lock === STORE_FAILED) throw new AbortError('the token store failed')
          if (lock !== LOCK_HELD) {
            taken = lock
            return { lock }
          }
          throw new StillWaiting(this.#cache.canWait)
        },
        {
          retries: Number.POSITIVE_INFINITY,
          minTimeout: POLL_MIN_DELAY_MS,
          maxTimeout: POLL_MAX_DELAY_MS,
          factor: 2,
          randomize: true,
          maxRetryTime: storeLockWaitMs,
          shouldConsumeRetry: ({ error }) => !(error instanceof StillWaiting && error.waited),
          signal: this.#lifetime.signal,
          // A caller waiting holds the process itself (process-hold); a background refresh must not.
          unref: true,
        },
      )
    } catch {
      // Closed right after the lock was taken: give it back rather than leave it to its TTL.
      if (taken !== undefined) void this.#cache.release(key, taken)
      if (this.#closed) throw new ClientClosedError()
      return undefined
    }
  }

  /** The store's token for `key` when it is fresh and not the one in memory (adopted then). */
  async #adoptStored(key: string): Promise<TokenSet | undefined | typeof STORE_FAILED> {
    const loaded = await this.#cache.read(key)
    if (this.#closed) throw new ClientClosedError()
    if (loaded === undefined || loaded === STORE_FAILED) return loaded
    return this.#adopt(key, loaded)
  }

  /**
   * Keeps `loaded` (from the store) when it is fresh and differs from the token in memory, which
   * is being replaced: a token another process stored is used, also at refresh time, so a fleet
   * whose members refresh at jittered times makes one request per window.
   */
  #adopt(key: string, loaded: TokenSet): TokenSet | undefined {
    const { timings } = this.#settings
    // A store is shared and may hold what another (older, misconfigured) client wrote.
    const stored = boundLifetime(loaded, timings.maxLifetimeMs, this.#now())
    if (stored.accessToken === this.#cache.get(key)?.token.accessToken) return undefined
    const schedule = scheduleToken(stored, timings)
    if (tokenState(schedule, this.#now()) !== 'fresh') return undefined
    this.#keep(key, stored, schedule, { saveToStore: false })
    return stored
  }

  /** One token from the source, kept in memory (and written to the store when `saveToStore`). */
  async #fetch(requestKey: TokenRequestKey, background: boolean, options: KeepOptions): Promise<TokenSet> {
    const { timings } = this.#settings
    const fetched = await this.#source.fetchToken(requestKey, { background })
    const token = boundLifetime(fetched, timings.maxLifetimeMs, this.#now())
    if (this.#closed) throw new ClientClosedError()
    this.#keep(requestKey.cacheKey, token, scheduleToken(token, timings), options)
    return token
  }

  #keep(key: string, token: TokenSet, schedule: TokenSchedule, { saveToStore }: KeepOptions): void {
    this.#cache.remember(key, token, schedule)
    if (saveToStore) this.#cache.save(key, token, token.expiresAt - this.#now())
    clientEvents.refreshScheduled(key, schedule)
  }
}
