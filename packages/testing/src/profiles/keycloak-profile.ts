/**
 * The Keycloak profile: service-account access tokens of a Keycloak realm (client-credentials
 * grant), with an audience mapper putting the API into `aud`.
 *
 * Sources: Keycloak's documentation only covers the URLs
 * (https://www.keycloak.org/securing-apps/oidc-layers, "Available endpoints"); the token format
 * comes from Keycloak's source (`ClientCredentialsGrantType.java`, `TokenUtil.java`) and from
 * tokens and answers real servers issue, all marked [C].
 *
 * @module profiles/keycloak-profile
 */
import { keycloak } from '@oauth-m2m/verifier'
import { ProfileSettingsCheck } from './profile-settings.js'
import { atOrigin, type ProfileUrlOptions, profileHosts, resourceIndicatorFor } from './profile-urls.js'
import { reshapeJsonAnswer } from './provider-answers.js'
import { stableGuid } from './provider-ids.js'
import type { ProfileRuntime, ProfileSignContext, ProviderProfile } from './provider-profile.js'
import { isPostTo, readForm, withForm } from './token-request-body.js'

/** Settings of the `keycloak` profile. */
export interface KeycloakProfileSettings {
  /** The profile's name. */
  readonly name: 'keycloak'
  /** The server's base URL (add `/auth` for servers before Keycloak 17). Default {@link KEYCLOAK_TEST_BASE_URL}. */
  readonly baseUrl?: string
  /** The realm: `iss` is `{baseUrl}/realms/{realm}`. Default `test`. */
  readonly realm?: string
  /**
   * The audience an audience mapper adds to the tokens (Keycloak adds none of your API's by
   * default). Default {@link KEYCLOAK_TEST_AUDIENCE}.
   */
  readonly audience?: string
  /**
   * Whether the client has "Use 'at+jwt' as access token header type" on (Keycloak 26.2+,
   * attribute `access.token.header.type.rfc9068`). Default `false`: the header says `JWT`.
   */
  readonly atJwtHeader?: boolean
}

/** Base URL of the `keycloak` profile when none is given. */
export const KEYCLOAK_TEST_BASE_URL = 'https://keycloak.example.test'
/** Audience of the `keycloak` profile when none is given. */
export const KEYCLOAK_TEST_AUDIENCE = 'test-api'
/** Client ID of the default client under the `keycloak` profile: Keycloak's client ids are names. */
export const KEYCLOAK_TEST_CLIENT_ID = 'orders-job'

/** Resolves the `keycloak` profile. */
export function keycloakProfile(
  settings: KeycloakProfileSettings,
  options: ProfileUrlOptions = {},
): ProviderProfile {
  const check = new ProfileSettingsCheck('keycloak', settings, [
    'baseUrl',
    'realm',
    'audience',
    'atJwtHeader',
  ])
  const baseUrl = (check.text('baseUrl') ?? KEYCLOAK_TEST_BASE_URL).replace(/\/+$/, '')
  const realm = check.text('realm') ?? 'test'
  const audience = check.text('audience') ?? KEYCLOAK_TEST_AUDIENCE
  const atJwtHeader = check.boolean('atJwtHeader') ?? false
  const preset = keycloak({ baseUrl, realm, audience })
  // The preset's issuer is `{baseUrl}/realms/{realm}` with the realm encoded, as Keycloak writes it.
  const providerIssuer = preset.issuer as string
  const url = (path: string): string => atOrigin(`${providerIssuer}${path}`, options.origin)
  const issuer = url('')
  const endpoints = {
    // [D2]/[C] the realm's token, certificate and discovery URLs.
    token: url('/protocol/openid-connect/token'),
    jwks: url('/protocol/openid-connect/certs'),
    // [U] introspection and revocation URLs, known from Keycloak's discovery documents.
    introspection: url('/protocol/openid-connect/token/introspect'),
    revocation: url('/protocol/openid-connect/revoke'),
    metadata: [url('/.well-known/openid-configuration')],
  }
  const resource = resourceIndicatorFor(audience)

  const claims = ({ client, scopes }: ProfileSignContext) => ({
    // [C] `aud` is an array when a mapper adds one to the `account` audience of the default roles.
    aud: [audience, 'account'],
    // [C] `sub` is the service-account user's id (a UUID), not the client id.
    sub: stableGuid('keycloak-service-account', providerIssuer, client.client_id),
    // [C] the `typ` claim is "Bearer" on access tokens (TokenUtil.TOKEN_TYPE_BEARER).
    typ: 'Bearer',
    azp: client.client_id,
    acr: '1',
    realm_access: { roles: [`default-roles-${realm.toLowerCase()}`, 'offline_access', 'uma_authorization'] },
    resource_access: { account: { roles: ['manage-account', 'manage-account-links', 'view-profile'] } },
    // [C] a space-separated string.
    scope: scopes.join(' '),
    email_verified: false,
    // [C] the service account's user name; [U] Keycloak writes user names in lower case.
    preferred_username: `service-account-${client.client_id.toLowerCase()}`,
    // [C] `client_id` from the service-account session notes (older servers: `clientId`).
    client_id: client.client_id,
  })

  const interceptor =
    (runtime: ProfileRuntime) => async (request: Request, next: (r: Request) => Promise<Response>) => {
      if (!isPostTo(request, endpoints.token)) return next(request)
      const form = await readForm(request, runtime.maxBodyBytes)
      if (form === undefined || form.get('grant_type') !== 'client_credentials') return next(request)
      // The audience comes from the mapper, not from the request; [U] Keycloak ignores `resource`.
      form.delete('resource')
      const answer = await next(withForm(request, form))
      if (answer.status !== 200) return answer
      // [C] the answer also has `refresh_expires_in` (0: no refresh token) and the hyphenated
      // `not-before-policy` (0), besides access_token, expires_in, token_type and scope.
      return reshapeJsonAnswer(answer, (body) => ({ ...body, refresh_expires_in: 0, 'not-before-policy': 0 }))
    }

  return {
    name: 'keycloak',
    issuer,
    origin: options.origin,
    endpoints,
    hosts: profileHosts(issuer, endpoints),
    // [C] `JWT`, or `at+jwt` when the client opted in.
    accessTokenTyp: atJwtHeader ? 'at+jwt' : 'JWT',
    // [C]/[U] 300 s, the realm's default access-token lifespan.
    accessTokenLifetimeSec: 300,
    resource: { resource, audience },
    audience,
    defaultClient: { client_id: KEYCLOAK_TEST_CLIENT_ID },
    claims,
    interceptor,
    verifierPreset: () => preset,
  }
}
