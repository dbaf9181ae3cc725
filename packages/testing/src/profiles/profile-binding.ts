/**
 * Applies the `profile` option to a test server: the server options the provider needs (issuer,
 * endpoints, header `typ`, RS256, the provider's claims through `beforeSign`, its resource and a
 * default client shaped like its clients), the request rules in front of the server, and the
 * handle's `dispatcher` and `verifierOptions()`.
 *
 * @module profiles/profile-binding
 */
import { ConfigurationError } from '@oauth-m2m/core'
import type { AuthorizationServer, BeforeSignContext } from '@oauth-m2m/server'
import type { VerifierOptions } from '@oauth-m2m/verifier'
import type { Dispatcher } from 'undici'
import type { TestAuthorizationServerOptions } from '../test-authorization-server.js'
import { createProfileDispatcher, onHosts } from './profile-dispatcher.js'
import type { ProfileInterceptor, ProviderProfile } from './provider-profile.js'
import { type ProfileOption, resolveProfile } from './resolve-profile.js'
import { keepSentParameters, sentParameters } from './sent-parameters.js'

/** Where a provider profile's URLs live; see {@link ProfileServerOptions.issuerOrigin}. */
export type IssuerOrigin = 'provider' | 'server'

/** The options of a test server that choose its profile. */
export interface ProfileServerOptions {
  /**
   * Answer like this provider for client credentials (issuer and endpoint URLs, request rules,
   * answer shapes, token header and claims): a profile's name with its settings at their
   * defaults, or its settings, e.g. `{ name: 'entra', tenantId }`. Default `'rfc9068'`: the
   * reference server's own RFC 9068 tokens.
   *
   * A `beforeSign` hook runs after the provider's claims, on top of them, and its `params` and
   * `resources` are the token request as the client sent it, before the provider's rules
   * rewrote it for the server (Auth0's `audience`, Entra's `scope=…/.default`).
   */
  profile?: ProfileOption
  /**
   * Where a provider profile's URLs are: `'provider'` (default) on the provider's hosts
   * (`https://login.microsoftonline.com/{tenant}/v2.0`), which `as.dispatcher` routes to this
   * server; `'server'` keeps the provider's paths but on this server's own origin (the listener's
   * URL for `startAuthorizationServer`, `issuer`'s origin in process), for clients that cannot be
   * given a dispatcher (a suite in another language, a container). `as.verifierOptions()` then
   * overrides the preset's `issuer` and `jwksUri` with these URLs.
   */
  issuerOrigin?: IssuerOrigin
}

/** What a test server's request router offers a profile. */
export interface ProfileRouter {
  /** Whether `url` is one of this server's. */
  owns(url: URL): boolean
  /** Answers a request the way every transport does. */
  handle(request: Request): Promise<Response>
}

/**
 * A profile applied to one test server: created with the options, attached once the server and
 * its router exist, switched to the listener when the server listens on a port.
 */
export class ProfileBinding {
  /** The provider profile, or `undefined` for `'rfc9068'`. */
  readonly profile: ProviderProfile | undefined
  /** Run by the router between failure injection and the server: the provider's request rules. */
  readonly interceptors: readonly ProfileInterceptor[]
  #server: AuthorizationServer | undefined
  #clientIds: () => readonly string[] = () => []
  #issuer = ''
  #audience = ''
  #dispatcher: Dispatcher | undefined
  #retired: Dispatcher[] = []

  /**
   * @param maxBodyBytes The server's `maxBodyBytes`: the most of a body the rules read.
   */
  constructor(profile: ProviderProfile | undefined, now: () => number, maxBodyBytes: number) {
    this.profile = profile
    const rules = profile?.interceptor({
      now,
      maxBodyBytes,
      registeredScopes: (clientId) => {
        const scope = this.#server?.getClient(clientId)?.scope
        return scope === undefined ? undefined : scope.split(' ').filter((s) => s !== '')
      },
    })
    this.interceptors =
      rules === undefined || profile === undefined
        ? []
        : [keepSentParameters(rules, profile.endpoints.token, maxBodyBytes)]
  }

  /** Binds the created server: the in-process dispatcher answers through `router`. */
  attach(
    server: AuthorizationServer,
    router: ProfileRouter,
    details: { clientIds: () => readonly string[]; audience: string },
  ): void {
    this.#server = server
    this.#clientIds = details.clientIds
    this.#issuer = server.issuer
    this.#audience =
      this.profile === undefined ? details.audience : (this.profile.audience ?? details.audience)
    const isServed = this.profile === undefined ? (url: URL) => router.owns(url) : onHosts(this.profile.hosts)
    this.#dispatcher = createProfileDispatcher(isServed, { handle: (request) => router.handle(request) })
  }

  /** From now on, `dispatcher` sends the profile's hosts to the listener at `url` (over the network). */
  useListener(url: string): void {
    if (this.#dispatcher !== undefined) this.#retired.push(this.#dispatcher)
    // Without a provider profile every URL of the server is the listener's own: nothing to route.
    const isServed = this.profile === undefined ? () => false : onHosts(this.profile.hosts)
    this.#dispatcher = createProfileDispatcher(isServed, { listenerUrl: url })
  }

  /** The `aud` a verifier should expect. */
  get audience(): string {
    return this.#audience
  }

  /** See `TestAuthorizationServer.dispatcher`. */
  get dispatcher(): Dispatcher {
    if (this.#dispatcher === undefined) throw new Error('@oauth-m2m/testing: the profile is not attached')
    return this.#dispatcher
  }

  /** See `TestAuthorizationServer.verifierOptions`. */
  verifierOptions(): VerifierOptions {
    if (this.profile === undefined) {
      return { issuer: this.#issuer, audience: this.#audience, dispatcher: this.dispatcher }
    }
    return profileVerifierOptions(this.profile, this.dispatcher, this.#clientIds())
  }

  /** Closes the dispatchers. */
  async close(): Promise<void> {
    const all = [...this.#retired, ...(this.#dispatcher === undefined ? [] : [this.#dispatcher])]
    this.#retired = []
    this.#dispatcher = undefined
    await Promise.all(all.map((dispatcher) => dispatcher.close().catch(() => {})))
  }
}

/**
 * Options for `createVerifier` that accept a profile's tokens: the provider's verifier preset,
 * its `issuer` and `jwksUri` moved to the profile's origin when it has one (the preset only knows
 * the provider's hosts), and `dispatcher`.
 *
 * @param clientIds The registered clients (the Cognito preset names the app clients it accepts).
 */
export function profileVerifierOptions(
  profile: ProviderProfile,
  dispatcher: Dispatcher,
  clientIds: readonly string[],
): VerifierOptions {
  return {
    ...profile.verifierPreset(clientIds),
    ...(profile.origin === undefined ? {} : { issuer: profile.issuer, jwksUri: profile.endpoints.jwks }),
    dispatcher,
  }
}

/**
 * A profile's claims builder run first, then the user's own `beforeSign` on the result, shown the
 * parameters the client sent (before the profile's rules rewrote them) and the provider's claims.
 */
function composeBeforeSign(
  profile: ProviderProfile,
  user: TestAuthorizationServerOptions['beforeSign'],
): NonNullable<TestAuthorizationServerOptions['beforeSign']> {
  return async (context: BeforeSignContext) => {
    const changes = profile.claims(context)
    if (user === undefined) return changes
    const claims: Record<string, unknown> = { ...context.claims, ...changes }
    for (const [name, value] of Object.entries(claims)) if (value === undefined) delete claims[name]
    const sent = sentParameters()
    const request = sent === undefined ? {} : { params: sent.params, resources: sent.resources }
    const more = await user({ ...context, ...request, claims })
    return more === undefined ? changes : { ...changes, ...more }
  }
}

/**
 * Resolves `options.profile` and completes the options with what the provider needs; what the
 * user set explicitly (`signing`, `accessTokenTyp`, `accessTokenLifetimeSec`, `endpoints`
 * members, `defaultClient` members, `defaultAudience`, `resources`) stays theirs.
 *
 * @param issuer The issuer the server would have without a profile (the listener's URL on a
 *   port); with `issuerOrigin: 'server'` the provider's paths are served on its origin.
 * @throws {ConfigurationError} for an unknown profile, settings its verifier preset refuses, or an
 *   `issuer` option beside a provider profile on the provider's hosts (the profile decides it).
 */
export function prepareProfile<T extends TestAuthorizationServerOptions>(
  options: T,
  issuer: string | undefined,
): {
  options: Omit<T, 'profile' | 'issuerOrigin'>
  issuer: string | undefined
  profile: ProviderProfile | undefined
} {
  const { profile: option, issuerOrigin = 'provider', ...rest } = options
  if (issuerOrigin !== 'provider' && issuerOrigin !== 'server') {
    throw new ConfigurationError("@oauth-m2m/testing: issuerOrigin must be 'provider' or 'server'")
  }
  const origin = issuerOrigin === 'server' && issuer !== undefined ? new URL(issuer).origin : undefined
  const profile = resolveProfile(option, { origin })
  if (profile === undefined) return { options: rest, issuer, profile }
  if (issuerOrigin === 'provider' && options.issuer !== undefined) {
    throw new ConfigurationError(
      "@oauth-m2m/testing: a provider profile sets the issuer; leave out `issuer` (or set issuerOrigin: 'server' to keep its origin)",
    )
  }
  const { endpoints } = profile
  const userDefaultClient = rest.defaultClient
  const completed = {
    ...rest,
    signing: rest.signing ?? { alg: 'RS256' as const },
    accessTokenTyp: 'accessTokenTyp' in rest ? rest.accessTokenTyp : profile.accessTokenTyp,
    accessTokenLifetimeSec: rest.accessTokenLifetimeSec ?? profile.accessTokenLifetimeSec,
    endpoints: {
      token: endpoints.token,
      jwks: endpoints.jwks,
      ...(endpoints.introspection === undefined ? {} : { introspection: endpoints.introspection }),
      ...(endpoints.revocation === undefined ? {} : { revocation: endpoints.revocation }),
      metadata: [...endpoints.metadata],
      ...rest.endpoints,
    },
    beforeSign: composeBeforeSign(profile, rest.beforeSign),
    resources: (rest.resources ?? []).some((r) => r?.resource === profile.resource.resource)
      ? rest.resources
      : [...(rest.resources ?? []), { ...profile.resource }],
    defaultAudience: rest.defaultAudience ?? profile.resource.resource,
    defaultClient: userDefaultClient === false ? false : { ...profile.defaultClient, ...userDefaultClient },
  }
  return { options: completed, issuer: profile.issuer, profile }
}
