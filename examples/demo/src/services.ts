/**
 * The calling side: a token client per service and API, and the narrated calls the services make
 * through `client.fetch`.
 *
 * @module services
 */
import { clientSecretBasic, clientSecretPost, createTokenClient, type TokenClient } from '@oauth-m2m/client'
import type { DemoCredentials } from './config.js'
import type { Narrator } from './narrator.js'

/** Refresh after 60% of the (short) lifetime, so that the demo shows it within seconds. */
const DEMO_REFRESH_RATIO = 0.6

/** What a service knows to get tokens for one API. */
export interface ServiceClientOptions {
  issuer: string
  credentials: DemoCredentials
  /** How the service authenticates at the token endpoint. */
  method: 'client_secret_basic' | 'client_secret_post'
  scope: string
  /** The API's resource indicator; `client.fetch` sends the token to its origin only. */
  resource: string
}

/**
 * A token client tuned for the demo's short token lifetimes: a 1 s expiry margin and refresh margin
 * instead of the defaults (30 s and 60 s, which suit lifetimes of minutes).
 */
export function createServiceClient(options: ServiceClientOptions): TokenClient {
  const secret = options.credentials.clientSecret
  return createTokenClient({
    issuer: options.issuer,
    clientId: options.credentials.clientId,
    auth: options.method === 'client_secret_basic' ? clientSecretBasic(secret) : clientSecretPost(secret),
    scope: options.scope,
    resource: options.resource,
    refreshRatio: DEMO_REFRESH_RATIO,
    refreshMarginSec: 1,
    expiryMarginSec: 1,
  })
}

/** Tallies of the services' calls. */
export interface CallCounts {
  requests: number
  succeeded: number
  forbidden: number
}

function describeBody(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ').trim()
  return oneLine.length > 100 ? `${oneLine.slice(0, 100)}…` : oneLine
}

/** Makes calls on behalf of the services, narrating each and counting the outcomes. */
export class ServiceCalls {
  readonly counts: CallCounts = { requests: 0, succeeded: 0, forbidden: 0 }
  readonly #narrator: Narrator
  readonly #apiName: (url: string) => string

  constructor(narrator: Narrator, apiName: (url: string) => string) {
    this.#narrator = narrator
    this.#apiName = apiName
  }

  /** `service` calls `url` through `client.fetch`; resolves with the status. */
  async call(service: string, client: TokenClient, method: 'GET' | 'POST', url: string): Promise<number> {
    const narrator = this.#narrator
    narrator.say('')
    narrator.say(`${service}: ${method} ${this.#apiName(url)} ${new URL(url).pathname}`)
    this.counts.requests++
    const response = await client.fetch(url, {
      method,
      ...(method === 'POST' && { body: '{"quantity":1}', headers: { 'content-type': 'application/json' } }),
    })
    const body = await response.text()
    narrator.say(`answer: ${response.status} ${describeBody(body)}`)
    if (response.ok) this.counts.succeeded++
    const challenge = response.headers.get('www-authenticate')
    if (challenge !== null) narrator.detail(`WWW-Authenticate: ${challenge}`)
    if (response.status === 403 && challenge?.includes('error="insufficient_scope"')) this.counts.forbidden++
    return response.status
  }
}
