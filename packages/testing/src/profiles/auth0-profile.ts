/**
 * The Auth0 profile: access tokens for an API (resource server) of an Auth0 tenant, asked for
 * with Auth0's `audience` parameter, in either of Auth0's access-token profiles.
 *
 * Sources (Auth0's documentation unless marked): get access tokens
 * (https://auth0.com/docs/secure/tokens/access-tokens/get-access-tokens), access token profiles
 * (https://auth0.com/docs/secure/tokens/access-tokens/access-token-profiles), JSON Web Key Sets
 * (https://auth0.com/docs/secure/tokens/json-web-tokens/json-web-key-sets), and the
 * Authentication API reference (client credentials flow).
 *
 * @module profiles/auth0-profile
 */
import { toErrorDescription } from '@oauth-m2m/core/internal'
import { auth0 } from '@oauth-m2m/verifier'
import { jsonObjectParameters } from '../body-parameters.js'
import { readBodyText } from '../request-body.js'
import { ProfileSettingsCheck } from './profile-settings.js'
import { atOrigin, type ProfileUrlOptions, profileHosts, resourceIndicatorFor } from './profile-urls.js'
import { jsonAnswer } from './provider-answers.js'
import { randomId } from './provider-ids.js'
import type { ProfileRuntime, ProfileSignContext, ProviderProfile } from './provider-profile.js'
import { isPostTo, mediaType, readForm, withForm } from './token-request-body.js'

/**
 * Auth0's access-token profiles ("token dialects"), chosen per API: `access_token` (the Auth0
 * profile, the default), `access_token_authz` (adds `permissions`), `rfc9068_profile` and
 * `rfc9068_profile_authz`.
 */
export type Auth0TokenDialect =
  | 'access_token'
  | 'access_token_authz'
  | 'rfc9068_profile'
  | 'rfc9068_profile_authz'

const AUTH0_TOKEN_DIALECTS: readonly Auth0TokenDialect[] = [
  'access_token',
  'access_token_authz',
  'rfc9068_profile',
  'rfc9068_profile_authz',
]

/** Settings of the `auth0` profile. */
export interface Auth0ProfileSettings {
  /** The profile's name. */
  readonly name: 'auth0'
  /** The tenant's domain (`iss` is `https://{domain}/`). Default {@link AUTH0_TEST_DOMAIN}. */
  readonly domain?: string
  /** The API's identifier: what clients send as `audience`, and the tokens' `aud`. Default {@link AUTH0_TEST_AUDIENCE}. */
  readonly audience?: string
  /** The API's access-token profile. Default `access_token`, Auth0's default. */
  readonly tokenDialect?: Auth0TokenDialect
  /**
   * The tenant's "Default Audience" setting: the API a request without `audience` gets a token
   * for. Default: none, so such a request is refused, as by a tenant without the setting.
   */
  readonly defaultAudience?: string
}

/** Tenant domain of the `auth0` profile when none is given (a made-up tenant). */
export const AUTH0_TEST_DOMAIN = 'oauth-m2m-test.us.auth0.com'
/** API identifier of the `auth0` profile when none is given. */
export const AUTH0_TEST_AUDIENCE = 'https://api.example.test'
/** Client ID of the default client under the `auth0` profile: 32 letters and digits, like Auth0's. */
export const AUTH0_TEST_CLIENT_ID = 'Xq7TzL2mW9vKc4RbN8sJ5hYd3FgP6eA1'

/** A refusal as Auth0 answers it: `error` and `error_description`, HTTP 403 for `access_denied`. */
function auth0Error(status: number, error: string, description: string): Response {
  return jsonAnswer(status, { error, error_description: toErrorDescription(description, 300) })
}

/** Resolves the `auth0` profile. */
export function auth0Profile(
  settings: Auth0ProfileSettings,
  options: ProfileUrlOptions = {},
): ProviderProfile {
  const check = new ProfileSettingsCheck('auth0', settings, [
    'domain',
    'audience',
    'tokenDialect',
    'defaultAudience',
  ])
  const domain = (check.text('domain', 'host') ?? AUTH0_TEST_DOMAIN).toLowerCase()
  const audience = check.text('audience') ?? AUTH0_TEST_AUDIENCE
  const dialect = check.oneOf('tokenDialect', AUTH0_TOKEN_DIALECTS) ?? 'access_token'
  const defaultAudience = check.text('defaultAudience')
  const rfc9068 = dialect === 'rfc9068_profile' || dialect === 'rfc9068_profile_authz'
  const withPermissions = dialect === 'access_token_authz' || dialect === 'rfc9068_profile_authz'
  const preset = auth0({ domain, audience })
  const url = (path: string): string => atOrigin(new URL(path, `https://${domain}`).href, options.origin)
  // [D] `https://{tenant}/`, with the trailing slash.
  const issuer = url('/')
  const endpoints = {
    token: url('/oauth/token'),
    jwks: url('/.well-known/jwks.json'),
    // Auth0 has no introspection endpoint; its /oauth/revoke takes refresh tokens only [U].
    introspection: undefined,
    revocation: undefined,
    metadata: [url('/.well-known/openid-configuration')],
  }
  const resource = resourceIndicatorFor(audience)

  const claims = ({ client, scopes }: ProfileSignContext) => {
    const common = {
      // [D2] `{client_id}@clients` in both profiles for client-credentials tokens.
      sub: `${client.client_id}@clients`,
      // [D2] `permissions` (an array) only with the `*_authz` dialects.
      permissions: withPermissions ? [...scopes] : undefined,
    }
    if (rfc9068) {
      // [D2] the RFC 9068 profile: `client_id`, `jti`, `scope`; no `gty`.
      return { ...common, jti: randomId(16) }
    }
    // [D2] the Auth0 profile: `azp` and `gty: "client-credentials"`, no `client_id`, no `jti`.
    return {
      ...common,
      azp: client.client_id,
      gty: 'client-credentials',
      client_id: undefined,
      jti: undefined,
    }
  }

  const interceptor =
    (runtime: ProfileRuntime) => async (request: Request, next: (r: Request) => Promise<Response>) => {
      if (!isPostTo(request, endpoints.token)) return next(request)
      let form: URLSearchParams | undefined
      if (mediaType(request) === 'application/json') {
        // [D]/[C] JSON bodies are accepted besides forms (Auth0's own examples send JSON).
        const parsed = jsonForm(await readBodyText(request, runtime.maxBodyBytes))
        if (parsed === undefined) return auth0Error(400, 'invalid_request', 'Invalid JSON request body')
        form = parsed
      } else {
        form = await readForm(request, runtime.maxBodyBytes)
      }
      if (form === undefined || form.get('grant_type') !== 'client_credentials') {
        return next(form === undefined ? request : withForm(request, form))
      }
      // [D] `audience` names the API; [C] without it (and without a tenant default audience) Auth0
      // answers 403 access_denied with this description (captured answers).
      const asked = form.get('audience') ?? defaultAudience
      if (asked === undefined || asked === '') {
        return auth0Error(
          403,
          'access_denied',
          'No audience parameter was provided, and no default audience has been configured',
        )
      }
      // [C] an identifier no API of the tenant has: 403 access_denied "Service not found: …".
      if (asked !== audience) return auth0Error(403, 'access_denied', `Service not found: ${asked}`)
      form.delete('audience')
      // `resource` is Auth0's only with the "Resource Parameter Compatibility Profile" [D2]; it is
      // not modelled, so the API comes from `audience` alone.
      form.delete('resource')
      form.set('resource', resource)
      // [C] the answer carries `scope` besides access_token, token_type, expires_in: as the server's.
      return next(withForm(request, form))
    }

  return {
    name: 'auth0',
    issuer,
    origin: options.origin,
    endpoints,
    hosts: profileHosts(issuer, endpoints),
    // [D2] `typ` is "JWT" in the Auth0 profile, "at+jwt" in the RFC 9068 profile.
    accessTokenTyp: rfc9068 ? 'at+jwt' : 'JWT',
    // [D] 86400 s, the API's default `token_lifetime`.
    accessTokenLifetimeSec: 86400,
    resource: { resource, audience },
    audience,
    defaultClient: { client_id: AUTH0_TEST_CLIENT_ID },
    claims,
    interceptor,
    verifierPreset: () => preset,
  }
}

/** A JSON body's members as form parameters; `undefined` when it is not a JSON object of plain values. */
function jsonForm(text: string | undefined): URLSearchParams | undefined {
  const params = text === undefined ? undefined : jsonObjectParameters(text)
  if (params === undefined) return undefined
  const form = new URLSearchParams()
  for (const [name, [value]] of params) form.set(name, value!)
  return form
}
