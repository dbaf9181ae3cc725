/**
 * RFC 7662 token introspection: asks the authorization server whether a token is active, caches
 * the answer by the token's SHA-256 (never the token), lets concurrent lookups of one token
 * share one call, and stops asking for a cooldown after a failed call.
 *
 * @module introspection
 */
import { performance } from 'node:perf_hooks'
import {
  BearerError,
  type ClientAuthStrategy,
  InvalidTokenError,
  TemporarilyUnavailableError,
} from '@oauth-m2m/core'
import { abortable, postAuthenticatedForm, summarizeError } from '@oauth-m2m/core/internal'
import { LRUCache } from 'lru-cache'
import type { Dispatcher } from 'undici'
import { type ClaimRules, principalFromClaims } from './access-token-claims.js'
import { type ApplicationCheck, runApplicationCheck } from './application-check.js'
import { type IntrospectionEvent, introspectionChannel } from './diagnostics.js'
import { FailureCooldown } from './failure-cooldown.js'
import {
  type IntrospectionCache,
  type IntrospectionCacheEntry,
  isIntrospectionCacheEntry,
} from './introspection-cache.js'
import type { IssuerMetadata } from './issuer-metadata.js'
import type { Principal } from './types.js'
import { VerifierClosedError } from './verifier-closed-error.js'

/** Introspection settings with every default filled in. */
export interface IntrospectorSettings {
  endpoint: string | undefined
  clientId: string
  auth: ClientAuthStrategy
  maxTtlMs: number
  inactiveTtlMs: number
  maxEntries: number
  /** Fail-fast time after a failed call, in milliseconds; 0 disables. */
  failureCooldownMs: number
  /** The shared second-level cache of answers, when configured. */
  cache?: IntrospectionCache | undefined
  /** Time limit of one call, in milliseconds. */
  timeoutMs: number
  dispatcher: Dispatcher | undefined
  rules: ClaimRules
  /** The application's claim rule, run once per answer (not per cache hit). */
  check?: ApplicationCheck | undefined
  /** The issuer whose endpoint is called: the default `iss` and the client-auth context. */
  metadata: IssuerMetadata
  /**
   * Clock, in epoch milliseconds, for claim checks, answer lifetimes and the failure cooldown.
   * Default: `Date.now`, with answers aged by lru-cache's own monotonic clock.
   */
  now?: (() => number) | undefined
}

/** A cached answer: the principal, or the refusal to throw again (the same error each time). */
type Answer = { principal: Principal } | { rejection: BearerError }

// Reads the global Date on each call, not once, so that whoever replaces it (a test's fake timers)
// is seen.
const wallClock = (): number => Date.now()

/** Asks the authorization server about tokens, with a bounded cache of its answers. */
export class Introspector {
  readonly #settings: IntrospectorSettings
  readonly #answers: LRUCache<string, Answer, string>
  readonly #cooldown: FailureCooldown
  readonly #now: () => number
  #closed = false

  constructor(settings: IntrospectorSettings) {
    this.#settings = settings
    this.#now = settings.now ?? wallClock
    this.#cooldown = new FailureCooldown(settings.failureCooldownMs, 'the introspection endpoint', this.#now)
    this.#answers = new LRUCache<string, Answer, string>({
      max: settings.maxEntries,
      ttl: settings.maxTtlMs,
      // A given clock ages the answers too; read on every lookup, since a test may move it at once.
      ...(settings.now ? { perf: { now: settings.now }, ttlResolution: 0 } : {}),
      fetchMethod: (hash, _stale, { context, options, signal }) =>
        this.#lookUp(hash, context, options, signal),
    })
  }

  /**
   * The principal of an active token.
   *
   * @param tokenHash - `hashToken(token)`, the cache key.
   * @throws {InvalidTokenError} when the token is inactive or its answer is not acceptable here.
   * @throws {TemporarilyUnavailableError} when the endpoint cannot be asked.
   */
  async introspect(token: string, tokenHash: string, signal?: AbortSignal): Promise<Principal> {
    let answer: Answer | undefined
    try {
      // The caller's signal only stops this caller waiting; the shared call runs on for the others.
      answer = await abortable(this.#answers.fetch(tokenHash, { context: token }), signal)
    } catch (err) {
      // close() aborts the calls in flight; lru-cache then rejects with its own bare Error.
      if (this.#closed && !signal?.aborted) throw new VerifierClosedError()
      throw err
    }
    if (answer === undefined || this.#closed) throw new VerifierClosedError()
    if ('rejection' in answer) throw answer.rejection
    if (answer.principal.expiresAt + this.#settings.rules.clockToleranceSec * 1000 <= this.#now()) {
      throw new InvalidTokenError('the token has expired')
    }
    return answer.principal
  }

  /** Forgets every answer and abandons calls in flight: their callers get `VerifierClosedError`. */
  close(): void {
    this.#closed = true
    this.#answers.clear()
  }

  async #lookUp(
    tokenHash: string,
    token: string,
    options: LRUCache.FetcherFetchOptions<string, Answer, string>,
    signal: AbortSignal,
  ): Promise<Answer> {
    const shared = await this.#readShared(tokenHash)
    const body = shared?.answer ?? (await this.#cooldown.run(() => this.#call(token, signal)))
    const fetchedAtMs = shared?.fetchedAtMs ?? this.#now()
    const answer = await this.#judge(body, options)
    if (shared !== undefined) {
      // Reused for what is left of its bound since it was fetched, not for a whole new one.
      const boundMs = 'principal' in answer ? this.#settings.maxTtlMs : this.#settings.inactiveTtlMs
      options.ttl = Math.max(1, Math.min(options.ttl ?? boundMs, boundMs - (this.#now() - fetchedAtMs)))
    } else if (this.#settings.cache !== undefined && options.ttl !== undefined) {
      this.#writeShared(tokenHash, { answer: body, fetchedAtMs }, options.ttl)
    }
    return answer
  }

  /** The principal, or the refusal, that `body` means here; sets how long it is reused (`options.ttl`). */
  async #judge(
    body: Readonly<Record<string, unknown>>,
    options: LRUCache.FetcherFetchOptions<string, Answer, string>,
  ): Promise<Answer> {
    const settings = this.#settings
    if (body.active !== true) {
      options.ttl = settings.inactiveTtlMs
      return { rejection: new InvalidTokenError('the token is not active') }
    }
    try {
      const nowMs = this.#now()
      const principal = principalFromClaims(
        body,
        settings.rules,
        { source: 'introspection', defaultIssuer: settings.metadata.issuer },
        nowMs,
      )
      const untilExpiry = principal.expiresAt + settings.rules.clockToleranceSec * 1000 - nowMs
      if (settings.check) await runApplicationCheck(settings.check, principal)
      options.ttl = Math.max(1, Math.min(settings.maxTtlMs, untilExpiry))
      return { principal }
    } catch (err) {
      // A check that cannot decide now (503) is not remembered: the next lookup asks again.
      if (!(err instanceof BearerError) || err instanceof TemporarilyUnavailableError) throw err
      options.ttl = settings.inactiveTtlMs
      return { rejection: err }
    }
  }

  /**
   * The shared cache's entry for `tokenHash` when it has a usable one, still within its bound; a
   * miss when it fails or takes longer than `timeoutMs` (the endpoint is asked instead).
   */
  async #readShared(tokenHash: string): Promise<IntrospectionCacheEntry | undefined> {
    const cache = this.#settings.cache
    if (cache === undefined) return undefined
    let timer: NodeJS.Timeout | undefined
    try {
      const entry = await Promise.race([
        Promise.resolve().then(() => cache.get(tokenHash)),
        new Promise<undefined>((resolve) => {
          timer = setTimeout(() => resolve(undefined), this.#settings.timeoutMs)
        }),
      ])
      if (!isIntrospectionCacheEntry(entry)) return undefined
      const ageMs = this.#now() - entry.fetchedAtMs
      const boundMs = entry.answer.active === true ? this.#settings.maxTtlMs : this.#settings.inactiveTtlMs
      // An entry from the future is not younger than any other: were it taken as such, one written
      // with a far-future time (by anyone who can write to a shared cache) would never age out.
      // Another instance's clock may run a little ahead, hence the clock tolerance.
      const skewMs = this.#settings.rules.clockToleranceSec * 1000
      return ageMs >= -skewMs && ageMs < boundMs ? entry : undefined
    } catch {
      return undefined
    } finally {
      clearTimeout(timer)
    }
  }

  /** Shares an answer in the background; a failure only costs the other instances a call. */
  #writeShared(tokenHash: string, entry: IntrospectionCacheEntry, ttlMs: number): void {
    const cache = this.#settings.cache!
    Promise.resolve()
      .then(() => cache.set(tokenHash, entry, ttlMs))
      .catch(() => {})
  }

  /** One RFC 7662 call; any failure to get a well-formed answer is a 503, never a 401. */
  async #call(token: string, signal: AbortSignal): Promise<Record<string, unknown>> {
    const settings = this.#settings
    const started = performance.now()
    let endpoint = settings.endpoint ?? '(from discovery)'
    let status: number | undefined
    const report = (event: Omit<IntrospectionEvent, 'endpoint' | 'durationMs' | 'status'>) => {
      if (introspectionChannel.hasSubscribers) {
        introspectionChannel.publish({
          endpoint,
          status,
          durationMs: performance.now() - started,
          ...event,
        } satisfies IntrospectionEvent)
      }
    }
    try {
      endpoint = settings.endpoint ?? (await settings.metadata.endpoint('introspection_endpoint'))
      const form = new URLSearchParams({ token, token_type_hint: 'access_token' })
      const res = await postAuthenticatedForm(endpoint, form, {
        auth: settings.auth,
        context: { clientId: settings.clientId, endpoint, issuer: settings.metadata.issuer },
        // The token itself must never come back in an error, even if the endpoint echoes it.
        sensitive: [token],
        timeoutMs: settings.timeoutMs,
        signal,
        purpose: 'introspection endpoint',
        ...(settings.dispatcher ? { dispatcher: settings.dispatcher } : {}),
      })
      status = res.status
      if (res.status !== 200) {
        throw new TemporarilyUnavailableError(`the introspection endpoint answered ${res.status}`)
      }
      const body = res.body
      if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        throw new TemporarilyUnavailableError(
          'the introspection endpoint answered something other than a JSON object',
        )
      }
      const { active } = body as Record<string, unknown>
      if (typeof active !== 'boolean') {
        throw new TemporarilyUnavailableError('the introspection answer has no boolean "active" member')
      }
      report({ outcome: active ? 'active' : 'inactive' })
      return body as Record<string, unknown>
    } catch (err) {
      report({ outcome: 'error', error: summarizeError(err) })
      if (err instanceof TemporarilyUnavailableError) throw err
      throw new TemporarilyUnavailableError('the introspection endpoint could not be reached', { cause: err })
    }
  }
}
