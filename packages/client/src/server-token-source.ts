/**
 * Getting a token from the authorization server, the way Go's `x/oauth2` token source does it
 * beneath its `ReuseTokenSource`: find the token endpoint (RFC 8414 discovery, once), send the
 * request, retry what may succeed on a second try (discovery included) within one deadline, and
 * remember a server's `Retry-After` pause per key (the backoff gate) so that it is not called
 * again before then. Caching is not its job (see reuse-token-source).
 *
 * @module server-token-source
 */
import { type ClientAuthStrategy, DiscoveryError, discover } from '@oauth-m2m/core'
import { isSecureTransport } from '@oauth-m2m/core/internal'
import { authenticatingDispatcher } from '@oauth-m2m/core/internal/tls'
import type { Dispatcher } from 'undici'
import { type Backoff, BackoffGate } from './backoff-gate.js'
import { clientEvents } from './client-events.js'
import type { DpopProver } from './dpop/dpop-prover.js'
import { mtlsTokenEndpoint } from './mtls-endpoint-aliases.js'
import { honouredRetryAfterMs, type RetryPolicy, withRetry } from './retry.js'
import { requestToken, type TokenEndpointTarget } from './token-request.js'
import type { TokenRequestKey } from './token-request-key.js'
import type { TokenSet } from './token-set.js'

/** Default of {@link ServerTokenSourceSettings.timeoutMs} (the client's `timeoutMs`), in ms. */
export const DEFAULT_ATTEMPT_TIMEOUT_MS = 10_000

/** What the server token source needs to know: a part of the client's resolved options. */
export interface ServerTokenSourceSettings {
  /** Issuer to discover the token endpoint from, when `tokenEndpoint` is not given. */
  issuer: string | undefined
  tokenEndpoint: string | undefined
  clientId: string
  auth: ClientAuthStrategy
  dispatcher: Dispatcher | undefined
  /** The client's DPoP state: token requests carry a proof, and a DPoP-bound token is expected. */
  dpop: DpopProver | undefined
  /** Whether discovery may use, and name, `http:` URLs on non-loopback hosts (the client option). */
  allowInsecureHttp: boolean
  /** Time limit of one attempt (discovery or token request), in ms. */
  timeoutMs: number
  maxResponseBytes: number
  retry: RetryPolicy
  timings: { defaultExpiresInMs: number }
  /** Bound of the backoff gate, in keys. */
  maxCacheEntries: number
  /** Clock, epoch ms. */
  now: () => number
}

/** Options of one {@link ServerTokenSource.fetchToken} call. */
export interface FetchTokenOptions {
  /** `true` when no caller waits for the answer (the refresh of a stale token). */
  background: boolean
}

/** Monotonic time for durations, unaffected by the injectable wall clock. */
const monotonicMs = () => performance.now()

/** Tokens from the authorization server, one request (with its retries) per call. */
export class ServerTokenSource {
  readonly #settings: ServerTokenSourceSettings
  readonly #gate: BackoffGate
  readonly #lifetime = new AbortController()
  #target: TokenEndpointTarget | undefined

  constructor(settings: ServerTokenSourceSettings) {
    this.#settings = settings
    this.#gate = new BackoffGate(settings.maxCacheEntries)
    if (settings.tokenEndpoint !== undefined) this.#target = this.#targetFor(settings.tokenEndpoint)
  }

  /** The pause the server asked for that `key` is in at `nowMs`, or `undefined`. */
  heldBack(key: string, nowMs: number): Backoff | undefined {
    return this.#gate.check(key, nowMs)
  }

  /** Ends the pause of `key`: the caller has a reason to ask again now (a rotated secret, a fixed server). */
  release(key: string): void {
    this.#gate.clear(key)
  }

  /** Cancels requests in flight and their retry waits, and forgets every pause. */
  close(reason: Error): void {
    this.#lifetime.abort(reason)
    this.#gate.clearAll()
  }

  /** One token request with its retries, reported on the fetch channels. */
  async fetchToken(requestKey: TokenRequestKey, { background }: FetchTokenOptions): Promise<TokenSet> {
    const { cacheKey: key } = requestKey
    const settings = this.#settings
    const started = monotonicMs()
    let attempts = 0
    clientEvents.fetchStart(requestKey, {
      clientId: settings.clientId,
      server: settings.tokenEndpoint ?? settings.issuer!,
      background,
    })
    try {
      const signal = this.#lifetime.signal
      const token = await withRetry(
        async (attempt, remainingMs) => {
          attempts = attempt
          const timeoutMs = Math.ceil(Math.min(settings.timeoutMs, remainingMs))
          try {
            const target = this.#target ?? (await this.#discoverTarget(timeoutMs))
            return await requestToken(target, requestKey, {
              timeoutMs,
              maxResponseBytes: settings.maxResponseBytes,
              defaultExpiresInMs: settings.timings.defaultExpiresInMs,
              now: settings.now,
              signal,
            })
          } catch (error) {
            this.#noteBackoff(key, error)
            throw error
          }
        },
        settings.retry,
        {
          signal,
          onRetry: ({ attempt, delayMs, error }) => clientEvents.fetchRetry(key, attempt, delayMs, error),
        },
      )
      this.#gate.clear(key)
      clientEvents.fetchEnd(key, attempts, monotonicMs() - started, token)
      return token
    } catch (error) {
      clientEvents.fetchError(key, attempts, monotonicMs() - started, error)
      throw error
    }
  }

  /** A 429 or 503 with Retry-After holds the key back until then, for at most `maxRetryAfterSec`. */
  #noteBackoff(key: string, error: unknown): void {
    const { status } = error as { status?: unknown }
    if (status !== 429 && status !== 503) return
    const pauseMs = honouredRetryAfterMs(error, this.#settings.retry.maxRetryAfterMs)
    if (pauseMs === undefined || pauseMs <= 0) return
    const until = this.#settings.now() + pauseMs
    this.#gate.block(key, until, error as Error)
    clientEvents.backoff(key, until, status)
  }

  #targetFor(tokenEndpoint: string): TokenEndpointTarget {
    const { issuer, clientId, auth, dispatcher, dpop } = this.#settings
    return { tokenEndpoint, issuer, clientId, auth, dispatcher, dpop }
  }

  /**
   * The token endpoint from RFC 8414 metadata (for a mutual-TLS client, its RFC 8705 §5 alias when
   * there is one); discovery caches and de-duplicates per issuer. A mutual-TLS client fetches the
   * metadata through the `Agent` presenting its certificate too: its `ca` is the authorization
   * server's trust, and its connections are then reused by the token request.
   */
  async #discoverTarget(timeoutMs: number): Promise<TokenEndpointTarget> {
    const issuer = this.#settings.issuer!
    const { auth } = this.#settings
    const dispatcher = authenticatingDispatcher(auth, this.#settings.dispatcher)
    const metadata = await discover(issuer, {
      timeoutMs,
      signal: this.#lifetime.signal,
      allowInsecureHttp: this.#settings.allowInsecureHttp,
      now: this.#settings.now,
      ...(dispatcher ? { dispatcher } : {}),
    })
    const endpoint =
      (auth.tls !== undefined ? mtlsTokenEndpoint(metadata, issuer) : undefined) ?? metadata.token_endpoint
    if (typeof endpoint !== 'string' || !URL.canParse(endpoint)) {
      throw new DiscoveryError(`the metadata of ${issuer} has no valid token_endpoint`)
    }
    // The transport rule of every package: https, or http to a loopback host, or http anywhere
    // when allowInsecureHttp lets the configured issuer and token endpoint be http too.
    const url = new URL(endpoint)
    if (!isSecureTransport(url) && !(this.#settings.allowInsecureHttp && url.protocol === 'http:')) {
      throw new DiscoveryError(`the token_endpoint of ${issuer} is not an https URL`)
    }
    if (auth.tls !== undefined && url.protocol !== 'https:') {
      throw new DiscoveryError(
        `the token_endpoint of ${issuer} is not an https URL, where ${auth.method} could present its certificate`,
      )
    }
    this.#target = this.#targetFor(endpoint)
    return this.#target
  }
}
