/**
 * The verifier preset for Amazon Cognito user pools.
 *
 * @module presets/cognito
 */
import { InvalidTokenError } from '@oauth-m2m/core'
import type { VerifierOptions } from '../verifier-options.js'
import { presetError, presetOptions, urlSafeText } from './preset-input.js'

/** Options of {@link cognito}. */
export interface CognitoPresetOptions {
  /**
   * The AWS Region of the user pool, such as `us-west-2`: the `{region}` of the issuer
   * `https://cognito-idp.{region}.amazonaws.com/{userPoolId}`
   * ({@link https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-the-access-token.html | Understanding the access token}, `iss`).
   */
  region: string
  /**
   * The user pool ID, `{region}_{id}`, such as `us-west-2_aBcDeFgHi`: the last part of the issuer
   * ({@link https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-the-access-token.html | Understanding the access token}, `iss`).
   */
  userPoolId: string
  /**
   * The app client ID(s) allowed to call your API: Cognito access tokens carry no `aud`, so the
   * client named in `client_id` is what says a token is meant for you
   * ({@link https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-tokens-verifying-a-jwt.html | Verifying a JSON Web Token}: access tokens have `client_id` instead of `aud`).
   */
  clientId: string | readonly string[]
}

const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d+$/
const POOL_ID = /^[a-z]{2}(?:-[a-z]+)+-\d+_[0-9A-Za-z]+$/

/** Refuses Cognito ID tokens: `token_use` is `access` on access tokens and `id` on ID tokens. */
function cognitoAccessTokenOnly(claims: Readonly<Record<string, unknown>>): void {
  if (claims.token_use !== 'access') {
    throw new InvalidTokenError('the token is not a Cognito access token (its "token_use" is not "access")')
  }
}

/**
 * Verifier options for the access tokens of an Amazon Cognito user pool (client-credentials
 * tokens of its app clients, and user tokens): pass to `createVerifier` as is, or spread and
 * override (`createVerifier({ ...cognito({ region, userPoolId, clientId }), dispatcher })`).
 *
 * What it sets, each from AWS's documentation
 * ({@link https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-tokens-verifying-a-jwt.html | Verifying a JSON Web Token},
 * {@link https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-the-access-token.html | Understanding the access token}):
 * - `issuer`: `https://cognito-idp.{region}.amazonaws.com/{userPoolId}`.
 * - `jwksUri`: `{issuer}/.well-known/jwks.json`, so no discovery request is needed.
 * - `algorithms: ['RS256']`: the pool's keys are RSA keys for RS256.
 * - `typ: 'lenient'`: the header holds only `kid` and `alg`, no `typ`.
 * - `audience: null` with `clientIds` from `clientId`: access tokens have no `aud` ("access
 *   tokens have `client_id` instead"), so the `client_id` claim must name one of your app clients.
 * - `claims.clientId: ['client_id']`, `claims.scopes: ['scope']` (a space-separated string).
 * - `check`: `token_use` must be `access`, as AWS asks verifiers to check; an ID token
 *   (`token_use: "id"`) is refused. To add your own rule, call this one first:
 *   `check: async (claims, principal) => { await preset.check?.(claims, principal); … }`.
 *
 * AWS partitions other than `amazonaws.com` (China) need `issuer` and `jwksUri` overridden.
 *
 * @throws {ConfigurationError} a malformed `region` or `userPoolId`, a pool ID of another region,
 *   or no `clientId`.
 */
export function cognito(options: CognitoPresetOptions): VerifierOptions {
  const { region, userPoolId, clientId } = presetOptions('cognito', options)
  const where = urlSafeText('cognito', 'region', region, REGION, 'an AWS Region such as us-west-2')
  const pool = urlSafeText(
    'cognito',
    'userPoolId',
    userPoolId,
    POOL_ID,
    'a user pool ID such as us-west-2_aBcDeFgHi',
  )
  if (!pool.startsWith(`${where}_`))
    presetError('cognito', `userPoolId ${pool} is not a pool of region ${where}`)
  const ids = typeof clientId === 'string' ? [clientId] : clientId
  if (!Array.isArray(ids) || ids.length === 0) {
    presetError('cognito', 'clientId must be a non-empty string or a non-empty array of strings')
  }
  const clientIds = Object.freeze(ids.map((id: unknown) => urlSafeText('cognito', 'clientId', id)))
  const issuer = `https://cognito-idp.${where}.amazonaws.com/${pool}`
  return {
    issuer,
    audience: null,
    clientIds,
    jwksUri: `${issuer}/.well-known/jwks.json`,
    algorithms: ['RS256'],
    typ: 'lenient',
    claims: { clientId: ['client_id'], scopes: ['scope'] },
    check: cognitoAccessTokenOnly,
  }
}
