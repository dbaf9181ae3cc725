/**
 * `runDemo`: the whole story in one function. An authorization server, inventory-api (JWT access
 * tokens, checked locally) and billing-api (opaque tokens, checked by introspection) start on free
 * loopback ports; checkout-service calls both through `client.fetch`, reporting-service tries
 * something its scope does not allow, an attacker sends forged tokens, and a token is refreshed
 * early. Every step is narrated from the libraries' diagnostics.
 *
 * @module run-demo
 */
import { once } from 'node:events'
import { type AuthorizationServerMetadata, ConfigurationError, discover } from '@oauth-m2m/core'
import { createAuthorizationServer } from '@oauth-m2m/server'
import { serveApis } from './apis.js'
import { createDemoSetup, SCOPES } from './config.js'
import { curlLines } from './curl-lines.js'
import { tokenSignedWithAnotherKey, unsignedToken } from './forged-tokens.js'
import { openLoopbackServer } from './loopback-server.js'
import { Narrator } from './narrator.js'
import { createServiceClient, ServiceCalls, type ServiceClientOptions } from './services.js'

/** Options of {@link runDemo}. */
export interface DemoOptions {
  /**
   * Keep every server running after the story and print `curl` lines (with the generated
   * secrets) until SIGINT/SIGTERM or `stopSignal`. Default `false`.
   */
  keep?: boolean
  /** Where lines of narration go. Default: stdout. */
  log?: (line: string) => void
  /** Lifetime of the access tokens the demo server issues, in whole seconds, at least 4. Default 8. */
  tokenLifetimeSec?: number
  /** With `keep`, stops the servers when it aborts (as Ctrl-C does). */
  stopSignal?: AbortSignal
}

/** What happened, counted. */
export interface DemoSummary {
  /** Requests the two services sent to the APIs. */
  requests: number
  /** Of those, answered 2xx. */
  succeeded: number
  /** Of those, answered 403 `insufficient_scope`. */
  forbidden: number
  /** Forged tokens sent, each answered 401 `invalid_token` (or not, which the summary would show). */
  forgedRefused: number
  /** Token responses from the authorization server, refreshes included. */
  tokensFetched: number
  /** Of those, early refreshes made in the background while the old token was still served. */
  backgroundRefreshes: number
  /** Calls that got their token from the client's cache, without asking the server. */
  tokensFromCache: number
  /** Introspection calls billing-api made. */
  introspections: number
}

function printStdout(line: string): void {
  process.stdout.write(`${line}\n`)
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)))
}

/** Runs the demo and resolves with its counts once every server is closed. */
export async function runDemo(options: DemoOptions = {}): Promise<DemoSummary> {
  const log = options.log ?? printStdout
  const tokenLifetimeSec = options.tokenLifetimeSec ?? 8
  if (!Number.isSafeInteger(tokenLifetimeSec) || tokenLifetimeSec < 4) {
    throw new ConfigurationError('runDemo: tokenLifetimeSec must be a whole number of seconds, at least 4')
  }
  const closers: Array<() => Promise<void>> = []
  const closeAll = async () => {
    // Newest first; every one runs even when an earlier one fails.
    let failure: unknown
    for (const close of closers.splice(0).reverse()) {
      await close().catch((error: unknown) => {
        failure ??= error
      })
    }
    if (failure !== undefined) throw failure
  }
  const summary: DemoSummary = {
    requests: 0,
    succeeded: 0,
    forbidden: 0,
    forgedRefused: 0,
    tokensFetched: 0,
    backgroundRefreshes: 0,
    tokensFromCache: 0,
    introspections: 0,
  }
  const apiNames = new Map<string, string>()
  const apiName = (url: string) => apiNames.get(new URL(url).origin) ?? url
  const narrator = new Narrator(log, apiName)
  narrator.start()
  closers.push(async () => narrator.stop())
  try {
    // The APIs' URLs are their resource indicators, which the server's configuration names: open
    // their ports first, serve later.
    const inventory = await openLoopbackServer()
    closers.push(() => inventory.close())
    const billing = await openLoopbackServer()
    closers.push(() => billing.close())
    apiNames.set(inventory.url, 'inventory-api')
    apiNames.set(billing.url, 'billing-api')

    const setup = createDemoSetup({ inventory: inventory.url, billing: billing.url }, tokenLifetimeSec)
    const authorizationServer = await createAuthorizationServer(setup.config)
    const { url: issuer } = await authorizationServer.listen({ port: 0, host: '127.0.0.1' })
    closers.push(() => authorizationServer.close())
    const apis = serveApis({
      issuer,
      inventory,
      billing,
      billingIntrospection: setup.billingIntrospection,
      onAccepted: (request) => narrator.accepted(request),
    })
    closers.push(() => apis.close())

    log('oauth-m2m demo: service-to-service calls with OAuth 2.0 client credentials, all on this machine')
    narrator.section('Started on free loopback ports')
    narrator.say(`authorization server  ${issuer}`)
    narrator.say(
      `inventory-api         ${inventory.url}  (JWT access tokens, verified locally with the issuer's keys)`,
    )
    narrator.say(`billing-api           ${billing.url}  (opaque access tokens, verified by introspection)`)
    narrator.say(
      `services              checkout-service (client_secret_basic), reporting-service (client_secret_post)`,
    )
    narrator.say(
      `access tokens live ${tokenLifetimeSec} s here, so that an early refresh happens within seconds`,
    )

    narrator.section('Discovery (RFC 8414)')
    const metadata = await discover(issuer)
    narrator.say(`GET ${issuer}/.well-known/oauth-authorization-server`)
    for (const name of [
      'issuer',
      'token_endpoint',
      'jwks_uri',
      'introspection_endpoint',
      'revocation_endpoint',
    ]) {
      const value = metadata[name]
      if (typeof value === 'string') narrator.detail(`${name.padEnd(24)}${value}`)
    }
    const methods = metadata.token_endpoint_auth_methods_supported?.join(', ')
    if (methods !== undefined) narrator.detail(`${'client authentication'.padEnd(24)}${methods}`)

    const serviceClient = (options: Omit<ServiceClientOptions, 'issuer'>) => {
      const client = createServiceClient({ issuer, ...options })
      closers.push(() => client.close())
      return client
    }
    const checkoutInventory = serviceClient({
      credentials: setup.checkout,
      method: 'client_secret_basic',
      scope: `${SCOPES.readStock} ${SCOPES.reserveStock}`,
      resource: inventory.url,
    })
    const checkoutBilling = serviceClient({
      credentials: setup.checkout,
      method: 'client_secret_basic',
      scope: SCOPES.charge,
      resource: billing.url,
    })
    const reportingInventory = serviceClient({
      credentials: setup.reporting,
      method: 'client_secret_post',
      scope: SCOPES.readStock,
      resource: inventory.url,
    })
    const services = new ServiceCalls(narrator, apiName)
    const call = services.call.bind(services)

    narrator.section('checkout-service reads the stock: its first call needs a token')
    await call('checkout-service', checkoutInventory, 'GET', `${inventory.url}/items`)

    narrator.section('More calls: the cached token is reused')
    await call('checkout-service', checkoutInventory, 'GET', `${inventory.url}/items`)
    await call('checkout-service', checkoutInventory, 'POST', `${inventory.url}/reservations`)

    narrator.section('checkout-service charges the customer: billing-api takes opaque tokens')
    for (let i = 0; i < 2; i++) {
      const before = narrator.counts.introspections
      await call('checkout-service', checkoutBilling, 'POST', `${billing.url}/charges`)
      if (narrator.counts.introspections === before) {
        narrator.say('billing-api reused its cached introspection answer: no call to the server this time')
      }
    }

    narrator.section('reporting-service may only read stock, and tries to reserve some')
    await call('reporting-service', reportingInventory, 'POST', `${inventory.url}/reservations`)

    narrator.section('An attacker sends forged tokens')
    await sendForgedTokens(narrator, metadata, issuer, inventory.url, summary)

    narrator.section('Early refresh: a token is renewed before it expires, without making anyone wait')
    const times = narrator.tokenTimes(setup.checkout.clientId, inventory.url)
    // The client publishes every schedule it sets; without one there would be nothing to wait for.
    if (times === undefined) throw new Error('the client reported no refresh schedule for its token')
    // Past refreshAt the next call finds the token stale (or, on a very slow machine, expired):
    // either way it causes a token request, which `refreshed` waits for.
    const waitMs = times.refreshAt - Date.now() + 100
    if (waitMs > 0) {
      narrator.say(
        `waiting ${(waitMs / 1000).toFixed(1)} s until checkout-service's inventory token is due for refresh…`,
      )
      await delay(waitMs)
    }
    const refreshed = narrator.nextTokenResponse(setup.checkout.clientId, inventory.url)
    await call('checkout-service', checkoutInventory, 'GET', `${inventory.url}/items`)
    await refreshed
    await call('checkout-service', checkoutInventory, 'GET', `${inventory.url}/items`)

    Object.assign(summary, services.counts, {
      tokensFetched: narrator.counts.tokensFetched,
      backgroundRefreshes: narrator.counts.backgroundRefreshes,
      tokensFromCache: narrator.counts.tokensFromCache,
      introspections: narrator.counts.introspections,
    })
    narrator.section('Summary')
    narrator.say(
      `requests made by the services    ${summary.requests}  (${summary.succeeded} succeeded, ${summary.forbidden} refused 403 insufficient_scope)`,
    )
    narrator.say(
      `tokens fetched from the server   ${summary.tokensFetched}  (including ${summary.backgroundRefreshes} early refresh(es) in the background)`,
    )
    narrator.say(`tokens served from the cache     ${summary.tokensFromCache}`)
    narrator.say(`introspection calls              ${summary.introspections}`)
    narrator.say(`forged tokens refused with 401   ${summary.forgedRefused}`)

    if (options.keep) {
      narrator.section('Still running: try it by hand (these lines hold the generated demo secrets)')
      for (const line of curlLines({
        issuer,
        inventory: inventory.url,
        billing: billing.url,
        checkout: setup.checkout,
        billingIntrospection: setup.billingIntrospection,
        tokenLifetimeSec,
      })) {
        log(line === '' ? '' : `   ${line}`)
      }
      log('')
      log('Press Ctrl-C to stop.')
      await untilStopped(options.stopSignal)
      log('Stopping…')
    }
    return summary
  } finally {
    await closeAll()
  }
}

async function sendForgedTokens(
  narrator: Narrator,
  metadata: AuthorizationServerMetadata,
  issuer: string,
  inventoryUrl: string,
  summary: DemoSummary,
): Promise<void> {
  // The attacker can read the public key set, so it knows the real `kid`; it lacks the private key.
  const jwks = (await (await fetch(metadata.jwks_uri ?? `${issuer}/jwks`)).json()) as {
    keys: Array<{ kid?: string }>
  }
  const kid = jwks.keys[0]?.kid ?? 'unknown'
  const claims = {
    issuer,
    audience: inventoryUrl,
    clientId: 'checkout-service',
    scope: `${SCOPES.readStock} ${SCOPES.reserveStock}`,
  }
  const attempts = [
    {
      what: "a token signed with the attacker's own key, under the issuer's real kid",
      token: tokenSignedWithAnotherKey(claims, kid),
    },
    { what: 'an unsigned token (alg: none)', token: unsignedToken(claims) },
  ]
  for (const { what, token } of attempts) {
    narrator.say('')
    narrator.say(`attacker: POST inventory-api /reservations with ${what}`)
    const response = await fetch(`${inventoryUrl}/reservations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    })
    await response.arrayBuffer()
    const challenge = response.headers.get('www-authenticate')
    narrator.say(`answer: ${response.status}`)
    if (challenge !== null) narrator.detail(`WWW-Authenticate: ${challenge}`)
    if (response.status === 401 && challenge?.includes('error="invalid_token"')) summary.forgedRefused++
  }
}

function untilStopped(signal: AbortSignal | undefined): Promise<void> {
  const controller = new AbortController()
  const stop = () => controller.abort()
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  signal?.addEventListener('abort', stop, { once: true })
  if (signal?.aborted) stop()
  return once(controller.signal, 'abort').then(() => {
    process.off('SIGINT', stop)
    process.off('SIGTERM', stop)
    signal?.removeEventListener('abort', stop)
  })
}
