/**
 * The verifier preset for Okta custom authorization servers.
 *
 * @module presets/okta
 */
import type { VerifierOptions } from '../verifier-options.js'
import { audienceInput, httpsUrlInput, presetError, presetOptions } from './preset-input.js'

/** Options of {@link okta}. */
export interface OktaPresetOptions {
  /**
   * The issuer of a custom authorization server, `https://{yourOktaDomain}/oauth2/{authorizationServerId}`,
   * e.g. `https://dev-123456.okta.com/oauth2/default`, without a trailing slash, exactly as in its
   * tokens' `iss`. The org authorization server (`https://{yourOktaDomain}` alone) is refused: its
   * access tokens are for Okta's own APIs, not for yours
   * ({@link https://developer.okta.com/docs/reference/api/oidc/ | OpenID Connect & OAuth 2.0 API, "Composing your base URL"}).
   */
  issuer: string
  /**
   * The audience configured on that authorization server (`api://default` on the `default`
   * server), compared exactly with `aud`
   * ({@link https://developer.okta.com/docs/reference/api/oidc/ | OpenID Connect & OAuth 2.0 API, access token payload}).
   */
  audience: string | readonly string[]
}

const CUSTOM_AS_PATH = /^\/oauth2\/[^/]+$/

/**
 * Verifier options for the access tokens of an Okta custom authorization server: pass to
 * `createVerifier` as is, or spread and override (`createVerifier({ ...okta({ issuer, audience }), dispatcher })`).
 *
 * What it sets, each from Okta's documentation
 * ({@link https://developer.okta.com/docs/reference/api/oidc/ | OpenID Connect & OAuth 2.0 API}):
 * - `issuer`: the issuer given.
 * - `jwksUri`: `{issuer}/v1/keys`, the authorization server's `/keys` endpoint, so no discovery
 *   request is needed.
 * - `algorithms: ['RS256']`: the access token header's `alg` is "always RS256".
 * - `typ: 'lenient'`: the header holds only `alg` and `kid`, no `typ`.
 * - `claims.clientId: ['cid']`: the client ID is in `cid`.
 * - `claims.scopes: ['scp']`: the granted scopes are the `scp` array.
 *
 * Okta's ID tokens carry no `cid` and no `scp` and have the client's ID as `aud`: the audience and
 * the `cid` claim keep them out. (The client-credentials flow cannot even ask for `openid`.)
 *
 * @throws {ConfigurationError} an `issuer` that is not an https custom-authorization-server URL, or an empty `audience`.
 */
export function okta(options: OktaPresetOptions): VerifierOptions {
  const { issuer, audience } = presetOptions('okta', options)
  const url = httpsUrlInput('okta', 'issuer', issuer, false)
  if (!CUSTOM_AS_PATH.test(url.pathname)) {
    presetError(
      'okta',
      "issuer must be a custom authorization server, https://{yourOktaDomain}/oauth2/{authorizationServerId}, without a trailing slash (tokens of the org authorization server are for Okta's own APIs)",
    )
  }
  const canonical = `${url.origin}${url.pathname}`
  return {
    issuer: canonical,
    audience: audienceInput('okta', audience),
    jwksUri: `${canonical}/v1/keys`,
    algorithms: ['RS256'],
    typ: 'lenient',
    claims: { clientId: ['cid'], scopes: ['scp'] },
  }
}
