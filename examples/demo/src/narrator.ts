/**
 * Tells what happens, as it happens, from the libraries' own `node:diagnostics_channel` events:
 * token requests, cache hits, refreshes, key fetches, introspection calls and refusals. It also
 * counts them for the summary. Nothing it prints holds a secret or a token.
 *
 * @module narrator
 */
import diagnostics_channel from 'node:diagnostics_channel'
import {
  type CacheMessage,
  CLIENT_CHANNELS,
  type FetchEndMessage,
  type FetchErrorMessage,
  type FetchStartMessage,
  type RefreshScheduledMessage,
} from '@oauth-m2m/client'
import { JWKS_FETCH_CHANNEL, type JwksFetchEvent } from '@oauth-m2m/core'
import {
  INTROSPECTION_CHANNEL,
  type IntrospectionEvent,
  REJECTION_CHANNEL,
  type RejectionEvent,
} from '@oauth-m2m/verifier'
import type { AcceptedRequest } from './apis.js'
import { formatMembers } from './jwt-view.js'

/** Counts of what the libraries did, read from their diagnostics. */
export interface EventCounts {
  tokensFetched: number
  backgroundRefreshes: number
  tokensFromCache: number
  keySetFetches: number
  introspections: number
  rejections: number
}

/** The cache schedule of one service's token for one API, epoch ms. */
export interface TokenTimes {
  refreshAt: number
  expiredAt: number
}

const CLAIMS_SHOWN = ['iss', 'sub', 'aud', 'client_id', 'scope', 'iat', 'exp', 'jti']

function seconds(ms: number): string {
  return `${(Math.max(0, ms) / 1000).toFixed(1)} s`
}

/** Subscribes to every channel on {@link Narrator.start}, and unsubscribes on {@link Narrator.stop}. */
export class Narrator {
  readonly counts: EventCounts = {
    tokensFetched: 0,
    backgroundRefreshes: 0,
    tokensFromCache: 0,
    keySetFetches: 0,
    introspections: 0,
    rejections: 0,
  }
  readonly #log: (line: string) => void
  readonly #apiName: (url: string) => string
  /** Cache key → "checkout-service's inventory-api token". */
  readonly #labels = new Map<string, string>()
  readonly #times = new Map<string, TokenTimes>()
  /** Cache key → expiry of its latest token, epoch ms. */
  readonly #expiries = new Map<string, number>()
  readonly #inBackground = new Set<string>()
  readonly #fetchWaiters = new Map<string, Array<() => void>>()
  readonly #decodedApis = new Set<string>()
  readonly #subscriptions: Array<[string, (message: unknown) => void]> = []

  constructor(log: (line: string) => void, apiName: (url: string) => string) {
    this.#log = log
    this.#apiName = apiName
  }

  /** Prints a section title. */
  section(title: string): void {
    this.#log('')
    this.#log(`== ${title}`)
  }

  /** Prints a line of narration, indented under the current section. */
  say(text: string): void {
    this.#log(text === '' ? '' : `   ${text}`)
  }

  /** Prints a detail of the previous line. */
  detail(text: string): void {
    this.#log(`       ${text}`)
  }

  start(): void {
    this.#on(CLIENT_CHANNELS.fetchStart, (m: FetchStartMessage) => this.#fetchStart(m))
    this.#on(CLIENT_CHANNELS.fetchEnd, (m: FetchEndMessage) => this.#fetchEnd(m))
    this.#on(CLIENT_CHANNELS.fetchError, (m: FetchErrorMessage) => this.#fetchError(m))
    this.#on(CLIENT_CHANNELS.refreshScheduled, (m: RefreshScheduledMessage) => this.#scheduled(m))
    this.#on(CLIENT_CHANNELS.cacheHit, (m: CacheMessage) => this.#cacheHit(m))
    this.#on(CLIENT_CHANNELS.cacheStale, (m: CacheMessage) => this.#cacheStale(m))
    this.#on(JWKS_FETCH_CHANNEL, (m: JwksFetchEvent) => this.#keysFetched(m))
    this.#on(INTROSPECTION_CHANNEL, (m: IntrospectionEvent) => this.#introspected(m))
    this.#on(REJECTION_CHANNEL, (m: RejectionEvent) => this.#rejected(m))
  }

  stop(): void {
    for (const [name, listener] of this.#subscriptions.splice(0))
      diagnostics_channel.unsubscribe(name, listener)
  }

  /** The schedule of the last token cached for `clientId` and the API at `resource`. */
  tokenTimes(clientId: string, resource: string): TokenTimes | undefined {
    const label = this.#label(clientId, [resource])
    for (const [key, times] of this.#times) if (this.#labels.get(key) === label) return times
    return undefined
  }

  /** Resolves when the next token request for `clientId` and `resource` ends, well or not. */
  nextTokenResponse(clientId: string, resource: string): Promise<void> {
    const label = this.#label(clientId, [resource])
    return new Promise((resolve) => {
      const waiters = this.#fetchWaiters.get(label) ?? []
      waiters.push(resolve)
      this.#fetchWaiters.set(label, waiters)
    })
  }

  /** Narrates a request an API accepted; the first JWT each API sees is shown decoded. */
  accepted(request: AcceptedRequest): void {
    const { principal } = request
    const how =
      principal.source === 'jwt'
        ? 'JWT signature and claims checked locally'
        : 'opaque token checked by introspection'
    this.say(
      `${request.api} accepted the token (${how}): client_id=${principal.clientId}, scope="${principal.scopes.join(' ')}"`,
    )
    if (request.jwtHeader !== undefined && !this.#decodedApis.has(request.api)) {
      this.#decodedApis.add(request.api)
      this.detail('the JWT decoded (the token itself is not printed):')
      this.detail(`  header  ${formatMembers(request.jwtHeader, ['alg', 'typ', 'kid'])}`)
      this.detail(`  claims  ${formatMembers(principal.claims, CLAIMS_SHOWN)}`)
    }
  }

  #on<T>(name: string, listener: (message: T) => void): void {
    const wrapped = (message: unknown) => listener(message as T)
    diagnostics_channel.subscribe(name, wrapped)
    this.#subscriptions.push([name, wrapped])
  }

  #label(clientId: string, resources: readonly string[]): string {
    const apis = resources.map((r) => this.#apiName(r)).join(' + ') || 'the issuer'
    return `${clientId}'s ${apis} token`
  }

  #fetchStart(m: FetchStartMessage): void {
    const label = this.#label(m.clientId, m.resources)
    this.#labels.set(m.key, label)
    if (m.background) {
      this.#inBackground.add(m.key)
      this.say(`background refresh: ${m.clientId} asks for a new token while the old one is still served`)
      return
    }
    this.say(`no token cached: ${m.clientId} asks the authorization server for one (POST /token)`)
    this.detail(
      `grant_type=client_credentials  client_id=${m.clientId}  scope="${m.scopes.join(' ')}"  resource=${m.resources.join(' ')}`,
    )
    this.detail('(the client secret travels in the request and is never printed)')
  }

  #fetchEnd(m: FetchEndMessage): void {
    this.counts.tokensFetched++
    const label = this.#labels.get(m.key) ?? 'token'
    if (this.#inBackground.delete(m.key)) this.counts.backgroundRefreshes++
    this.#expiries.set(m.key, m.expiresAt)
    this.say(
      `token issued in ${Math.round(m.durationMs)} ms: scope="${m.scope ?? ''}", valid for ${seconds(m.expiresAt - Date.now())}`,
    )
    this.#settle(label)
  }

  #fetchError(m: FetchErrorMessage): void {
    this.#inBackground.delete(m.key)
    this.say(`token request failed after ${m.attempts} attempt(s): ${m.error.message}`)
    this.#settle(this.#labels.get(m.key) ?? '')
  }

  #settle(label: string): void {
    const waiters = this.#fetchWaiters.get(label)
    this.#fetchWaiters.delete(label)
    for (const resolve of waiters ?? []) resolve()
  }

  #scheduled(m: RefreshScheduledMessage): void {
    this.#times.set(m.key, { refreshAt: m.refreshAt, expiredAt: m.expiredAt })
    const now = Date.now()
    const expiry = this.#expiries.get(m.key) ?? m.expiredAt
    this.detail(
      `cached; refresh planned early, in ${seconds(m.refreshAt - now)} (${seconds(expiry - m.refreshAt)} before it expires, with random jitter)`,
    )
  }

  #cacheHit(m: CacheMessage): void {
    this.counts.tokensFromCache++
    const refreshAt = this.#times.get(m.key)?.refreshAt
    const fresh = refreshAt === undefined ? '' : ` (fresh for another ${seconds(refreshAt - Date.now())})`
    this.say(`token served from the client's cache, no request to the server${fresh}`)
  }

  #cacheStale(m: CacheMessage): void {
    this.counts.tokensFromCache++
    this.say(
      `token past its refresh time but valid for ${seconds((m.expiresAt ?? 0) - Date.now())}: served at once from the cache`,
    )
  }

  #keysFetched(m: JwksFetchEvent): void {
    this.counts.keySetFetches++
    this.say(
      `the verifier fetched the issuer's public keys: ${m.keyCount} key(s) from ${m.jwksUri} (${m.reason})`,
    )
  }

  #introspected(m: IntrospectionEvent): void {
    this.counts.introspections++
    this.say(
      `billing-api asked the authorization server about the token (POST ${new URL(m.endpoint).pathname}): ${m.outcome}`,
    )
  }

  #rejected(m: RejectionEvent): void {
    this.counts.rejections++
    this.say(`the verifier refused the request: ${m.error} (${m.message})`)
  }
}
