/**
 * What a provider profile is: where the provider puts its endpoints, what its access tokens look
 * like, how its token endpoint reads requests and shapes answers, and which verifier preset
 * accepts its tokens. One module per provider builds one of these from the user's settings; the
 * test server applies it.
 *
 * @module profiles/provider-profile
 */
import type { VerifierOptions } from '@oauth-m2m/verifier'

/** The provider profiles a test server can take on. */
export const PROFILE_NAMES = ['rfc9068', 'entra', 'auth0', 'okta', 'keycloak', 'cognito'] as const

/** One of {@link PROFILE_NAMES}: `'rfc9068'` is the reference server's own token format. */
export type ProfileName = (typeof PROFILE_NAMES)[number]

/**
 * What a profile's claims builder is given when the server is about to issue a token: the part of
 * the server's `beforeSign` context a profile reads.
 */
export interface ProfileSignContext {
  /** The client the token is issued to, as registered. */
  readonly client: { readonly client_id: string; readonly token_endpoint_auth_method?: string }
  /** The scopes granted. */
  readonly scopes: readonly string[]
  /** The claims the server would issue (`iss`, `sub`, `aud`, `iat`, `exp`, `jti`, `client_id`, `scope`). */
  readonly claims: Readonly<Record<string, unknown>>
}

/**
 * Claims merged over the server's: a member whose value is `undefined` removes that claim (the
 * contract of the server's `beforeSign`).
 */
export type ClaimChanges = Record<string, unknown>

/**
 * Sits in front of the server's `handle()`: may rewrite the request, answer it alone, or reshape
 * the server's answer. `next` hands a request on to the server.
 */
export type ProfileInterceptor = (
  request: Request,
  next: (request: Request) => Promise<Response>,
) => Promise<Response>

/** What a profile's request rules may ask of the running test server. */
export interface ProfileRuntime {
  /** The server's clock, epoch milliseconds. */
  now(): number
  /** The scopes a registered client may have, or `undefined` for a client the server does not know. */
  registeredScopes(clientId: string): readonly string[] | undefined
  /**
   * The server's `maxBodyBytes`: the most of a body the rules read. A larger body goes to the
   * server unread, which answers it 413.
   */
  readonly maxBodyBytes: number
}

/** Absolute URLs of the endpoints, at the provider's paths. */
export interface ProfileEndpoints {
  /** The token endpoint. */
  readonly token: string
  /** The JWKS (`jwks_uri`). */
  readonly jwks: string
  /**
   * The introspection endpoint. `undefined` when the provider has none for these tokens: the
   * server then keeps its own under the issuer, which is no provider URL.
   */
  readonly introspection: string | undefined
  /** The revocation endpoint; `undefined` as for `introspection`. */
  readonly revocation: string | undefined
  /** Every URL at which the provider serves its discovery document. */
  readonly metadata: readonly string[]
}

/** A provider profile, resolved from the user's settings. */
export interface ProviderProfile {
  /** Which provider. */
  readonly name: ProfileName
  /**
   * The issuer identifier, exactly as the provider writes `iss` (on {@link ProviderProfile.origin}
   * when there is one).
   */
  readonly issuer: string
  /**
   * The origin the provider's paths are served on instead of the provider's hosts (the
   * `issuerOrigin: 'server'` option); `undefined` on the provider's hosts.
   */
  readonly origin: string | undefined
  /** Where the provider's endpoints are. */
  readonly endpoints: ProfileEndpoints
  /** Every host (`URL.host`) of those URLs: the hosts `as.dispatcher` sends to the test server. */
  readonly hosts: readonly string[]
  /** The JWS header `typ` of access tokens; `null` when the provider writes none. */
  readonly accessTokenTyp: string | null
  /** The provider's default access-token lifetime, in seconds. */
  readonly accessTokenLifetimeSec: number
  /**
   * The resource (RFC 8707 indicator, an absolute URI) tokens are issued for when a request names
   * none after the profile's rules ran, and the `aud` the server gives them.
   */
  readonly resource: { readonly resource: string; readonly audience: string }
  /** The `aud` a verifier of this provider's tokens expects, or `undefined` when tokens carry none. */
  readonly audience: string | undefined
  /**
   * The test server's default client under this profile: a client id shaped like the provider's,
   * and a scope when the provider needs another shape than the default `read write`.
   */
  readonly defaultClient: { readonly client_id: string; readonly scope?: string }
  /** Turns the server's RFC 9068 claims into the provider's. */
  claims(context: ProfileSignContext): ClaimChanges
  /** The provider's token-endpoint rules and answer shapes, or `undefined` when it has none. */
  interceptor(runtime: ProfileRuntime): ProfileInterceptor | undefined
  /**
   * The verifier preset for this provider with these settings: the same call an API would make
   * against the real provider, with the provider's own URLs.
   *
   * @param clientIds The registered clients (only the Cognito preset needs them: its tokens have
   *   no `aud`, so the verifier names the app clients it accepts).
   */
  verifierPreset(clientIds: readonly string[]): VerifierOptions
}
