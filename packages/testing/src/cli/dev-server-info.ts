/**
 * What `m2m-test-server` tells its user once started: where the server is, the demo client, and
 * how a verifier must be configured to accept its tokens. Printed as the banner, and answered as
 * JSON by the admin endpoint's `GET /_admin`.
 *
 * @module cli/dev-server-info
 */
import { ConfigurationError } from '@oauth-m2m/core'
import type { JWK } from 'jose'
import type { ProfileName } from '../profiles/provider-profile.js'
import type { StartedAuthorizationServer } from '../start-authorization-server.js'

/** The demo client: the test server's default client. */
export interface DemoClientInfo {
  /** Its `client_id`. */
  readonly clientId: string
  /** `undefined` for `private_key_jwt`, and for a client registered with its own secret hash or keys. */
  readonly clientSecret: string | undefined
  /** Every scope it may ask for, space-separated. */
  readonly scope: string
  /** How it authenticates at the token endpoint (`client_secret_basic` unless configured). */
  readonly tokenEndpointAuthMethod: string
  /** The generated private key of a `private_key_jwt` demo client. */
  readonly privateJwk: JWK | undefined
}

/** Everything the banner says, as JSON. */
export interface DevServerInfo {
  /** The listener's URL, which `listening on` prints. */
  readonly url: string
  /** The profile the server answers like. */
  readonly profile: ProfileName
  /** The issuer identifier (`iss`). */
  readonly issuer: string
  /** The token endpoint URL. */
  readonly tokenEndpoint: string
  /** The JWKS URL. */
  readonly jwksUri: string
  /** The `aud` of tokens asked for without a resource; `undefined` when the provider's tokens have none (Cognito). */
  readonly audience: string | undefined
  /** `undefined` when the config file turned the default client off and listed no other. */
  readonly demoClient: DemoClientInfo | undefined
  /**
   * The form parameters the demo client's token request needs besides
   * `grant_type=client_credentials`, when the provider asks for some (Entra's `scope=…/.default`,
   * Auth0's `audience`, Okta's `scope`).
   */
  readonly tokenRequest: Readonly<Record<string, string>> | undefined
  /**
   * The verifier settings that accept this server's tokens: `as.verifierOptions()` (for a
   * provider profile its verifier preset, on this server's URLs) without the members JSON cannot
   * carry (the dispatcher, Cognito's `token_use` check).
   */
  readonly verifier: Readonly<Record<string, unknown>>
}

function demoClient(as: StartedAuthorizationServer): DemoClientInfo | undefined {
  const clientId = as.clientIds[0]
  if (clientId === undefined) return undefined
  try {
    const credentials = as.createClient()
    return {
      clientId: credentials.clientId,
      clientSecret: credentials.clientSecret,
      scope: credentials.registeredScope,
      tokenEndpointAuthMethod: credentials.authMethod,
      privateJwk: credentials.privateKey,
    }
  } catch (error) {
    if (!(error instanceof ConfigurationError)) throw error
    // Registered with its own keys or secret hash: the user holds its credentials, not us.
    const registered = as.server.getClient(clientId)
    return {
      clientId,
      clientSecret: undefined,
      scope: registered?.scope ?? '',
      tokenEndpointAuthMethod: registered?.token_endpoint_auth_method ?? 'client_secret_basic',
      privateJwk: undefined,
    }
  }
}

function tokenRequest(
  profile: ProfileName,
  audience: string | undefined,
  demo: DemoClientInfo | undefined,
): Record<string, string> | undefined {
  // Entra takes the API's client id (its tokens' `aud`) before `/.default`, as well as its App ID URI.
  if (profile === 'entra' && audience !== undefined) return { scope: `${audience}/.default` }
  // Auth0 needs `audience` unless the tenant has a default one.
  if (profile === 'auth0' && audience !== undefined) return { audience }
  // Okta needs at least one scope: an authorization server has no default scopes until configured.
  if (profile === 'okta' && demo !== undefined) return { scope: demo.scope }
  return undefined
}

/** What to tell the user about `as`, started under `profile`. */
export function devServerInfo(as: StartedAuthorizationServer, profile: ProfileName): DevServerInfo {
  const { dispatcher: _dispatcher, ...options } = as.verifierOptions()
  // A round trip through JSON keeps exactly what can be printed.
  const verifier = JSON.parse(JSON.stringify(options)) as Record<string, unknown>
  const audience = typeof verifier.audience === 'string' ? verifier.audience : undefined
  // `audience: null`: the provider's tokens carry no `aud` (Cognito), nothing to tell.
  const hasAudience = options.audience !== null
  const demo = demoClient(as)
  return {
    url: as.url,
    profile,
    issuer: as.issuer,
    tokenEndpoint: as.tokenEndpoint,
    jwksUri: as.server.metadata.jwks_uri,
    audience: hasAudience ? as.audience : undefined,
    demoClient: demo,
    tokenRequest: tokenRequest(profile, audience, demo),
    verifier,
  }
}
