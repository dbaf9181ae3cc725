/**
 * A cache of one remote JWK Set, for verifying signatures with the issuer's current keys without
 * fetching them per token and without stampeding the JWKS endpoint.
 *
 * @module jwks-cache
 */
import { channel } from 'node:diagnostics_channel'
import type { JWK } from 'jose'
import type { Dispatcher } from 'undici'
import {
  JWKS_ERROR_CHANNEL,
  JWKS_FETCH_CHANNEL,
  type JwksErrorEvent,
  type JwksFetchEvent,
  type JwksFetchReason,
  summarizeError,
} from './diagnostics.js'
import { ConfigurationError, HttpError, JwksNoMatchingKeyError, JwksUnavailableError } from './errors.js'
import { headerValue, requestJson } from './json-request.js'
import { type JwsKeyHint, selectJwk } from './jwk-match.js'
import { parseJwksDocument } from './jwks-document.js'

/** Options of {@link JwksCache}. */
export interface JwksCacheOptions {
  /** undici dispatcher to fetch through. Default: undici's global dispatcher. */
  dispatcher?: Dispatcher
  /** Time limit of one fetch, in milliseconds. Default 5 000. */
  timeoutMs?: number
  /**
   * How long a fetched key set is fresh, in milliseconds. Default 600 000 (10 min). A
   * `Cache-Control: max-age` from the endpoint (less any `Age`) is used instead when present,
   * clamped to [`cooldownMs`, `maxAgeMs`]; `no-cache` / `no-store` count as 0 and so give
   * `cooldownMs`.
   */
  maxAgeMs?: number
  /**
   * Smallest gap between two refetches forced by unknown `kid`s, in milliseconds. Default
   * 30 000. A token with an unknown `kid` forces at most one refetch per cooldown, and after a
   * failed fetch the next is tried no sooner than this. A routine fetch (first use, expiry) does
   * not start the cooldown, so a key rotated in just after it is still picked up on first sight.
   */
  cooldownMs?: number
  /**
   * How long past its expiry the last good key set is still served while the endpoint fails
   * (stale-if-error), in milliseconds. Default 86 400 000 (24 h).
   */
  maxStaleMs?: number
  /** Clock, in epoch milliseconds. Default `Date.now`; tests inject their own. */
  now?: () => number
}

/** Default of {@link JwksCacheOptions.timeoutMs}. */
export const DEFAULT_JWKS_TIMEOUT_MS = 5_000
/** Default of {@link JwksCacheOptions.maxAgeMs}. */
export const DEFAULT_JWKS_MAX_AGE_MS = 10 * 60_000
/** Default of {@link JwksCacheOptions.cooldownMs}. */
export const DEFAULT_JWKS_COOLDOWN_MS = 30_000
/** Default of {@link JwksCacheOptions.maxStaleMs}. */
export const DEFAULT_JWKS_MAX_STALE_MS = 24 * 60 * 60_000

/** A key set, however large, is small; a bigger answer is not a JWKS. */
const MAX_JWKS_BYTES = 512 * 1024

interface KeySet {
  readonly keys: readonly JWK[]
  /** Epoch ms until which the set is fresh. */
  readonly expiresAt: number
}

const fetchChannel = channel(JWKS_FETCH_CHANNEL)
const errorChannel = channel(JWKS_ERROR_CHANNEL)

/**
 * The keys published at one JWKS URI.
 *
 * - The set is fetched on first use and is fresh for `maxAgeMs` (or the endpoint's
 *   `Cache-Control: max-age`); an expired set is refetched on the next use.
 * - All concurrent callers share one fetch.
 * - A `kid` the set does not hold (a key rotation) forces one refetch, at most once per
 *   `cooldownMs` counted from the previous such refetch; inside the cooldown such a call fails at once with
 *   {@link JwksNoMatchingKeyError}, so random `kid`s cannot turn into a flood of fetches.
 * - When a refetch fails, the last good set is served for up to `maxStaleMs` past its expiry and
 *   the fetch is retried at most once per cooldown; only without any usable set does a call fail,
 *   with {@link JwksUnavailableError}.
 * - Only public signing keys are ever returned: an entry without a `kty`, with private or
 *   symmetric key material, or with a `use` other than `sig` is skipped, not fatal.
 *
 * Diagnostics: every fetch is published on {@link JWKS_FETCH_CHANNEL}, every failed fetch on
 * {@link JWKS_ERROR_CHANNEL}.
 */
export class JwksCache {
  readonly #uri: URL
  readonly #dispatcher: Dispatcher | undefined
  readonly #timeoutMs: number
  readonly #maxAgeMs: number
  readonly #cooldownMs: number
  readonly #maxStaleMs: number
  readonly #now: () => number
  #set: KeySet | undefined
  #inflight: Promise<KeySet> | undefined
  #lastFetchStartedAt = Number.NEGATIVE_INFINITY
  #lastUnknownKidFetchAt = Number.NEGATIVE_INFINITY
  /** Error of the latest fetch; cleared by a successful one. */
  #lastFailure: unknown

  /**
   * @param jwksUri absolute `http:` or `https:` URL of the JWK Set.
   * @throws {ConfigurationError} for a URI that is not an http(s) URL or an option that is not a
   *   non-negative finite number.
   */
  constructor(jwksUri: string | URL, options: JwksCacheOptions = {}) {
    let uri: URL
    try {
      uri = new URL(jwksUri)
    } catch (err) {
      throw new ConfigurationError('jwksUri is not an absolute URL', { cause: err })
    }
    if (uri.protocol !== 'https:' && uri.protocol !== 'http:') {
      throw new ConfigurationError(`jwksUri must be an http(s) URL, not ${uri.protocol}`)
    }
    this.#uri = uri
    this.#dispatcher = options.dispatcher
    this.#timeoutMs = positiveMs('timeoutMs', options.timeoutMs, DEFAULT_JWKS_TIMEOUT_MS)
    this.#maxAgeMs = positiveMs('maxAgeMs', options.maxAgeMs, DEFAULT_JWKS_MAX_AGE_MS)
    this.#cooldownMs = positiveMs('cooldownMs', options.cooldownMs, DEFAULT_JWKS_COOLDOWN_MS)
    this.#maxStaleMs = positiveMs('maxStaleMs', options.maxStaleMs, DEFAULT_JWKS_MAX_STALE_MS)
    this.#now = options.now ?? Date.now
  }

  /**
   * The public key that verifies a JWS with this header: with a `kid`, the key with that `kid`
   * that fits `alg`; without a `kid`, the single key of the set that fits `alg`.
   *
   * @throws {JwksNoMatchingKeyError} when the set (refetched if the cooldown allows) has no such
   *   key, or several.
   * @throws {JwksUnavailableError} when no usable key set could be had.
   */
  async getKey(header: JwsKeyHint): Promise<JWK> {
    const selection = selectJwk((await this.#usableSet()).keys, header)
    if (selection.key) return selection.key
    if (selection.problem === 'ambiguous') throw noMatch(header, 'several keys')
    const refetched = selectJwk((await this.#setAfterUnknownKey()).keys, header)
    if (refetched.key) return refetched.key
    throw noMatch(header, refetched.problem === 'ambiguous' ? 'several keys' : 'no key')
  }

  /**
   * All usable public keys of the current set (fresh, or stale within `maxStaleMs` while the
   * endpoint fails).
   *
   * @throws {JwksUnavailableError} when no usable key set could be had.
   */
  async getKeys(): Promise<JWK[]> {
    return [...(await this.#usableSet()).keys]
  }

  /**
   * Fetches the key set now, ignoring freshness and cooldown (joining a fetch already running).
   * On failure the previous set stays in use under the usual stale rules.
   *
   * @throws {JwksUnavailableError} with the fetch error as `cause` when the fetch fails.
   */
  async refresh(): Promise<void> {
    await this.#await(this.#inflight ?? this.#fetch('manual'), 'the JWKS could not be refreshed')
  }

  async #usableSet(): Promise<KeySet> {
    const set = this.#set
    if (set !== undefined && this.#now() < set.expiresAt) return set
    let fetching = this.#inflight
    if (fetching === undefined && this.#mayFetch()) fetching = this.#fetch(set ? 'expired' : 'initial')
    if (fetching !== undefined) {
      try {
        return await fetching
      } catch {
        // fall through to the stale set
      }
    }
    const stale = this.#set
    if (stale !== undefined && this.#now() <= stale.expiresAt + this.#maxStaleMs) return stale
    throw unavailable(
      this.#lastFailure,
      stale === undefined
        ? 'the JWKS could not be fetched'
        : 'the JWKS could not be refreshed and the last key set is too old to use',
    )
  }

  /** The set to look in again after a `kid` was not found; refetched only if the cooldown allows. */
  async #setAfterUnknownKey(): Promise<KeySet> {
    // If the refetch fails, the key may exist but cannot be looked up: not the token's fault.
    const why = 'the JWKS could not be refreshed to look up an unknown key'
    if (this.#inflight !== undefined) return this.#await(this.#inflight, why)
    // The cooldown runs from the last refetch an unknown kid forced, not from a routine fetch:
    // otherwise a rotation soon after start-up or expiry would be refused for a whole cooldown.
    if (this.#mayFetch() && this.#now() - this.#lastUnknownKidFetchAt >= this.#cooldownMs) {
      this.#lastUnknownKidFetchAt = this.#now()
      return this.#await(this.#fetch('unknown-kid'), why)
    }
    // Inside the cooldown the set is as recent as we allow, unless the latest fetch failed.
    if (this.#lastFailure !== undefined) throw unavailable(this.#lastFailure, why)
    return this.#set!
  }

  /** After a failed fetch, the next is tried no sooner than a cooldown later. */
  #mayFetch(): boolean {
    return this.#lastFailure === undefined || this.#now() - this.#lastFetchStartedAt >= this.#cooldownMs
  }

  async #await(fetching: Promise<KeySet>, why: string): Promise<KeySet> {
    try {
      return await fetching
    } catch (err) {
      throw unavailable(err, why)
    }
  }

  #fetch(reason: JwksFetchReason): Promise<KeySet> {
    this.#lastFetchStartedAt = this.#now()
    const fetching = this.#load(reason).finally(() => {
      this.#inflight = undefined
    })
    this.#inflight = fetching
    return fetching
  }

  async #load(reason: JwksFetchReason): Promise<KeySet> {
    const jwksUri = this.#uri.href
    // Monotonic, unlike the injectable `now`: a duration must not jump with the wall clock.
    const startedAtMs = performance.now()
    try {
      const res = await requestJson(this.#uri, {
        timeoutMs: this.#timeoutMs,
        maxBodyBytes: MAX_JWKS_BYTES,
        purpose: 'JWKS endpoint',
        ...(this.#dispatcher ? { dispatcher: this.#dispatcher } : {}),
      })
      if (res.status !== 200) {
        throw new HttpError(`JWKS endpoint answered ${res.status}`, {
          status: res.status,
          retryAfterMs: res.retryAfterMs,
        })
      }
      const keys = parseJwksDocument(res.body)
      if (keys === undefined) {
        throw new HttpError('JWKS endpoint answered a document without a "keys" array', {
          status: res.status,
        })
      }
      const set = { keys, expiresAt: this.#now() + this.#freshnessMs(res.headers) }
      this.#set = set
      this.#lastFailure = undefined
      if (fetchChannel.hasSubscribers) {
        fetchChannel.publish({
          jwksUri,
          keyCount: keys.length,
          reason,
          durationMs: performance.now() - startedAtMs,
        } satisfies JwksFetchEvent)
      }
      return set
    } catch (err) {
      this.#lastFailure = err
      if (errorChannel.hasSubscribers) {
        errorChannel.publish({
          jwksUri,
          error: summarizeError(err),
          durationMs: performance.now() - startedAtMs,
        } satisfies JwksErrorEvent)
      }
      throw err
    }
  }

  /** RFC 9111 §4.2.1: `max-age` less `Age`, clamped so that neither a cooldown nor a max age is broken. */
  #freshnessMs(headers: Record<string, string | string[] | undefined>): number {
    const maxAgeSec = parseMaxAgeSec(headerValue(headers, 'cache-control'))
    if (maxAgeSec === undefined) return this.#maxAgeMs
    const ageSec = Number(headerValue(headers, 'age') ?? 0)
    const remainingMs = (maxAgeSec - (Number.isFinite(ageSec) && ageSec > 0 ? ageSec : 0)) * 1000
    return Math.min(Math.max(remainingMs, this.#cooldownMs), this.#maxAgeMs)
  }
}

/** `max-age` of a Cache-Control value in seconds; `no-cache` and `no-store` give 0. */
function parseMaxAgeSec(cacheControl: string | undefined): number | undefined {
  if (cacheControl === undefined) return undefined
  let maxAge: number | undefined
  for (const directive of cacheControl.toLowerCase().split(',')) {
    const [name, value] = directive.trim().split('=', 2)
    if (name === 'no-cache' || name === 'no-store') return 0
    if (name === 'max-age' && value !== undefined && /^"?\d+"?$/.test(value)) {
      maxAge = Number(value.replaceAll('"', ''))
    }
  }
  return maxAge
}

function positiveMs(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback
  if (!Number.isFinite(value) || value < 0) {
    throw new ConfigurationError(`${name} must be a non-negative number of milliseconds`)
  }
  return value
}

function noMatch(header: JwsKeyHint, what: string): JwksNoMatchingKeyError {
  // The header comes from an untrusted token: quote and shorten what is echoed.
  const kid = header.kid === undefined ? 'no kid' : `kid ${JSON.stringify(String(header.kid).slice(0, 64))}`
  const alg = header.alg === undefined ? 'no alg' : `alg ${JSON.stringify(String(header.alg).slice(0, 16))}`
  return new JwksNoMatchingKeyError(`the JWKS has ${what} for ${kid} and ${alg}`)
}

function unavailable(cause: unknown, why: string): JwksUnavailableError {
  return new JwksUnavailableError(why, { cause })
}
