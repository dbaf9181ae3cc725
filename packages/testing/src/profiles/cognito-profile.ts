/**
 * The Amazon Cognito profile: client-credentials access tokens of a user pool's app client, with
 * the token endpoint on the pool's domain and the issuer and keys on `cognito-idp`.
 *
 * Sources (AWS documentation unless marked): the token endpoint
 * (https://docs.aws.amazon.com/cognito/latest/developerguide/token-endpoint.html), understanding
 * the access token (…/amazon-cognito-user-pools-using-the-access-token.html), verifying a JSON
 * Web Token (…/amazon-cognito-user-pools-using-tokens-verifying-a-jwt.html), and defining
 * resource servers (…/cognito-user-pools-define-resource-servers.html).
 *
 * @module profiles/cognito-profile
 */
import { randomUUID } from 'node:crypto'
import { cognito } from '@oauth-m2m/verifier'
import { ProfileSettingsCheck } from './profile-settings.js'
import { atOrigin, type ProfileUrlOptions, profileHosts } from './profile-urls.js'
import { jsonAnswer, reshapeJsonAnswer, without } from './provider-answers.js'
import type { ProfileRuntime, ProfileSignContext, ProviderProfile } from './provider-profile.js'
import { isPostTo, readForm, requestClientId, withForm } from './token-request-body.js'

/** Settings of the `cognito` profile. */
export interface CognitoProfileSettings {
  /** The profile's name. */
  readonly name: 'cognito'
  /** The AWS Region. Default `us-east-1`. */
  readonly region?: string
  /** The user pool ID, `{region}_{id}`. Default `{region}_M2mTest01`. */
  readonly userPoolId?: string
  /**
   * The prefix of the pool's domain, `{prefix}.auth.{region}.amazoncognito.com`, where the token
   * endpoint is. Default `oauth-m2m-test`.
   */
  readonly domainPrefix?: string
  /**
   * The resource server identifier whose custom scopes the default client gets
   * (`{identifier}/read {identifier}/write`). Default {@link COGNITO_TEST_RESOURCE_SERVER}.
   */
  readonly resourceServer?: string
}

/** Resource server identifier of the `cognito` profile when none is given. */
export const COGNITO_TEST_RESOURCE_SERVER = 'https://api.example.test'
/** Client ID of the default client under the `cognito` profile: 26 lower-case letters and digits, like Cognito's. */
export const COGNITO_TEST_CLIENT_ID = '4m2mtestclient0a1b2c3d4e5f'

/** A refusal as Cognito answers it: HTTP 400 and only `error` [D] ("Examples of negative responses"). */
function cognitoError(error: string): Response {
  return jsonAnswer(400, { error })
}

/** Resolves the `cognito` profile. */
export function cognitoProfile(
  settings: CognitoProfileSettings,
  options: ProfileUrlOptions = {},
): ProviderProfile {
  const check = new ProfileSettingsCheck('cognito', settings, [
    'region',
    'userPoolId',
    'domainPrefix',
    'resourceServer',
  ])
  const region = check.text('region') ?? 'us-east-1'
  const userPoolId = check.text('userPoolId') ?? `${region}_M2mTest01`
  // [D] "The prefix can contain only lowercase letters, numbers, and hyphens."
  const domainPrefix = check.text('domainPrefix', 'label') ?? 'oauth-m2m-test'
  const resourceServer = check.text('resourceServer', 'token') ?? COGNITO_TEST_RESOURCE_SERVER
  // The preset's checks of region and pool id apply here too; its client ids are the server's.
  const presetFor = (clientIds: readonly string[]) => cognito({ region, userPoolId, clientId: clientIds })
  const providerIssuer = presetFor(['check']).issuer as string
  const issuer = atOrigin(providerIssuer, options.origin)
  const poolDomain = `https://${domainPrefix}.auth.${region}.amazoncognito.com`
  const endpoints = {
    // [D] the token endpoint is on the pool's domain, not on the issuer's host.
    token: atOrigin(`${poolDomain}/oauth2/token`, options.origin),
    // [D] keys and discovery under the issuer.
    jwks: atOrigin(`${providerIssuer}/.well-known/jwks.json`, options.origin),
    // Cognito has no introspection endpoint; its /oauth2/revoke takes refresh tokens only [U].
    introspection: undefined,
    revocation: undefined,
    metadata: [atOrigin(`${providerIssuer}/.well-known/openid-configuration`, options.origin)],
  }
  // Access tokens have no `aud` [D], so the server's resource only carries a placeholder that the
  // claims builder removes.
  const resource = { resource: 'urn:oauth-m2m:testing:cognito-user-pool', audience: userPoolId }

  const claims = ({ client, scopes, claims: issued }: ProfileSignContext) => ({
    // [D] no `aud` in access tokens; `client_id` instead.
    aud: undefined,
    // [U] `sub` is the app client id for client-credentials tokens.
    sub: client.client_id,
    // [D] `token_use: "access"` tells access tokens from ID tokens.
    token_use: 'access',
    scope: scopes.join(' '),
    // [C] in the client-credentials sample; equal to `iat` as nobody signed in.
    auth_time: issued.iat,
    // [C] seen only in payload typings.
    version: 2,
    // [D] a UUID.
    jti: randomUUID(),
    client_id: client.client_id,
  })

  const interceptor =
    (runtime: ProfileRuntime) => async (request: Request, next: (r: Request) => Promise<Response>) => {
      if (!isPostTo(request, endpoints.token)) return next(request)
      const form = await readForm(request, runtime.maxBodyBytes)
      if (form !== undefined && form.get('grant_type') === 'client_credentials') {
        form.delete('resource')
        const scope = form.get('scope')
        const clientId = requestClientId(request, form)
        const allowed = clientId === undefined ? undefined : runtime.registeredScopes(clientId)
        if (scope !== null && allowed !== undefined) {
          // [D] "Any scope requested must be preassociated with the client or it will be ignored".
          const kept = scope.split(' ').filter((token) => token !== '' && allowed.includes(token))
          // [U] none left: Cognito refuses with invalid_scope rather than granting nothing.
          if (kept.length === 0) return cognitoError('invalid_scope')
          form.set('scope', kept.join(' '))
        }
      }
      const answer = await next(form === undefined ? request : withForm(request, form))
      if (answer.status === 200) {
        // [D] the answer is access_token, token_type, expires_in: no `scope`.
        return reshapeJsonAnswer(answer, (body) => without(body, 'scope'))
      }
      if (answer.status !== 400 && answer.status !== 401) return answer
      // [D] every refusal is HTTP 400 with `error` alone; the server's `WWW-Authenticate` goes too.
      return reshapeJsonAnswer(answer, (body) => ({ error: body.error }), {
        status: 400,
        dropHeaders: ['www-authenticate'],
      })
    }

  return {
    name: 'cognito',
    issuer,
    origin: options.origin,
    endpoints,
    hosts: profileHosts(issuer, endpoints),
    // [D] the header is `kid` and `alg` only: no `typ`.
    accessTokenTyp: null,
    // [D] the sample answer's `expires_in` (app clients: 5 min to 1 day).
    accessTokenLifetimeSec: 3600,
    resource,
    audience: undefined,
    defaultClient: {
      client_id: COGNITO_TEST_CLIENT_ID,
      scope: `${resourceServer}/read ${resourceServer}/write`,
    },
    claims,
    interceptor,
    verifierPreset: presetFor,
  }
}
