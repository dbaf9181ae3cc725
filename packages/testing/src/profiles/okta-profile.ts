/**
 * The Okta profile: access tokens of an Okta custom authorization server (such as `default`) for
 * the client-credentials flow.
 *
 * Sources (Okta's documentation unless marked): the OpenID Connect & OAuth 2.0 API reference
 * (https://developer.okta.com/docs/reference/api/oidc/: base URL, endpoints, access-token header
 * and claims), the guide "Implement the Client Credentials flow", and client authentication
 * (https://developer.okta.com/docs/api/openapi/okta-oauth/guides/client-auth).
 *
 * @module profiles/okta-profile
 */
import { okta } from '@oauth-m2m/verifier'
import { ProfileSettingsCheck } from './profile-settings.js'
import { atOrigin, type ProfileUrlOptions, profileHosts, resourceIndicatorFor } from './profile-urls.js'
import { jsonAnswer, reshapeJsonAnswer } from './provider-answers.js'
import { randomId } from './provider-ids.js'
import type { ProfileRuntime, ProfileSignContext, ProviderProfile } from './provider-profile.js'
import { isPostTo, readForm, withForm } from './token-request-body.js'

/** Settings of the `okta` profile. */
export interface OktaProfileSettings {
  /** The profile's name. */
  readonly name: 'okta'
  /** The Okta org's domain. Default {@link OKTA_TEST_DOMAIN}. */
  readonly domain?: string
  /** The custom authorization server's id: `iss` is `https://{domain}/oauth2/{id}`. Default `default`. */
  readonly authorizationServerId?: string
  /** The authorization server's audience, the tokens' `aud`. Default `api://default`, the `default` server's. */
  readonly audience?: string
}

/** Okta domain of the `okta` profile when none is given (a made-up org). */
export const OKTA_TEST_DOMAIN = 'oauth-m2m-test.okta.com'
/** Client ID of the default client under the `okta` profile: Okta's app ids start with `0oa` and are 20 characters. */
export const OKTA_TEST_CLIENT_ID = '0oa1m2mtestClient7d5'

/** Scopes of OpenID Connect, which the client-credentials flow cannot ask for [D]. */
const OIDC_SCOPES = new Set([
  'openid',
  'profile',
  'email',
  'address',
  'phone',
  'offline_access',
  'device_sso',
])

/** Resolves the `okta` profile. */
export function oktaProfile(settings: OktaProfileSettings, options: ProfileUrlOptions = {}): ProviderProfile {
  const check = new ProfileSettingsCheck('okta', settings, ['domain', 'authorizationServerId', 'audience'])
  const domain = (check.text('domain', 'host') ?? OKTA_TEST_DOMAIN).toLowerCase()
  const serverId = check.text('authorizationServerId', 'segment') ?? 'default'
  // [C] `api://default` is the `default` server's audience in real tokens; [U] that it is per server.
  const audience = check.text('audience') ?? 'api://default'
  // [D] `https://{yourOktaDomain}/oauth2/{authorizationServerId}`, no trailing slash.
  const providerIssuer = `https://${domain}/oauth2/${encodeURIComponent(serverId)}`
  const preset = okta({ issuer: providerIssuer, audience })
  const url = (path: string): string => atOrigin(`${providerIssuer}${path}`, options.origin)
  const issuer = url('')
  const endpoints = {
    // [D] `{issuer}/v1/token`, keys at `{issuer}/v1/keys`, both discovery documents under the issuer.
    token: url('/v1/token'),
    jwks: url('/v1/keys'),
    // [U] `/v1/introspect` and `/v1/revoke` are in Okta's endpoint list, not in the notes' sources.
    introspection: url('/v1/introspect'),
    revocation: url('/v1/revoke'),
    metadata: [url('/.well-known/oauth-authorization-server'), url('/.well-known/openid-configuration')],
  }
  const resource = resourceIndicatorFor(audience)

  const claims = ({ client, scopes }: ProfileSignContext) => ({
    // [D] reserved claims: `ver` (the integer 1), `jti` starting with "AT.", `cid`, `scp` (an
    // array); no `uid` without a user. [D2]/[C] `sub` is the client id for this flow.
    ver: 1,
    jti: `AT.${randomId(32)}`,
    cid: client.client_id,
    scp: [...scopes],
    sub: client.client_id,
    client_id: undefined,
    scope: undefined,
  })

  const interceptor =
    (runtime: ProfileRuntime) => async (request: Request, next: (r: Request) => Promise<Response>) => {
      if (!isPostTo(request, endpoints.token)) return next(request)
      const form = await readForm(request, runtime.maxBodyBytes)
      if (form === undefined || form.get('grant_type') !== 'client_credentials') return next(request)
      const scope = form.get('scope')
      // [D] the request must name at least one custom scope; [C] Okta's answer when it names none
      // and the authorization server has no default scopes (captured answers).
      if (scope === null || scope.trim() === '') {
        return jsonAnswer(400, {
          error: 'invalid_scope',
          error_description:
            "The authorization server resource does not have any configured default scopes, 'scope' must be provided.",
        })
      }
      // [D] "The Client Credentials flow never has a user context": OpenID Connect scopes are refused.
      // [U] the wording of Okta's description.
      if (scope.split(' ').some((token) => OIDC_SCOPES.has(token))) {
        return jsonAnswer(400, {
          error: 'invalid_scope',
          error_description:
            'The following scopes are not allowed for the client_credentials grant type: OpenID Connect scopes.',
        })
      }
      // Tokens of an authorization server are for its one audience; [U] Okta ignores `resource`.
      form.delete('resource')
      const answer = await next(withForm(request, form))
      if (answer.status !== 400) return answer
      // [U] Okta's wording for a scope the client may not have.
      return reshapeJsonAnswer(answer, (body) =>
        body.error === 'invalid_scope'
          ? {
              ...body,
              error_description:
                'One or more scopes are not configured for the authorization server resource.',
            }
          : body,
      )
    }

  return {
    name: 'okta',
    issuer,
    origin: options.origin,
    endpoints,
    hosts: profileHosts(issuer, endpoints),
    // [D] the header holds `alg` ("always RS256") and `kid` only: no `typ`.
    accessTokenTyp: null,
    // [D] an hour by default (custom authorization servers: 5 min to 24 h by policy).
    accessTokenLifetimeSec: 3600,
    resource: { resource, audience },
    audience,
    defaultClient: { client_id: OKTA_TEST_CLIENT_ID },
    claims,
    interceptor,
    verifierPreset: () => preset,
  }
}
