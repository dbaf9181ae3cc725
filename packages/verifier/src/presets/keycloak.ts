/**
 * The verifier preset for Keycloak realms.
 *
 * @module presets/keycloak
 */
import { InvalidTokenError } from '@oauth-m2m/core'
import type { VerifierOptions } from '../verifier-options.js'
import { audienceInput, httpsUrlInput, presetError, presetOptions, urlSafeText } from './preset-input.js'

/** Options of {@link keycloak}. */
export interface KeycloakPresetOptions {
  /**
   * The server's base URL as its tokens name it: `https://sso.example.com`, or with the `/auth`
   * context path of Keycloak before 17 (and of servers configured so),
   * `https://sso.example.com/auth`. `https`, or `http` to a loopback host for a local server. A
   * trailing slash is dropped.
   */
  baseUrl: string
  /** The realm's name, as in `{baseUrl}/realms/{realm}`. */
  realm: string
  /**
   * The audience your API's tokens carry, compared exactly with `aud`. Keycloak does not put your
   * API in `aud` by default: add an audience mapper (`oidc-audience-mapper`) to the client or a
   * client scope. `account`, the audience most tokens of a realm carry by default, is refused: it
   * would accept any client's token.
   */
  audience: string | readonly string[]
}

/** The `typ` claim Keycloak gives access tokens (`TokenUtil.TOKEN_TYPE_BEARER`). */
const ACCESS_TOKEN_TYP = 'bearer'

/**
 * Accepts only tokens whose `typ` claim says "Bearer", which Keycloak writes into every access
 * token. A missing `typ` is refused too: in Keycloak's source every token it issues carries one,
 * and the others say `ID` (ID tokens, which a client-credentials request with `scope=openid` also
 * returns), `Refresh` or `Offline`. Letter case is not compared (older servers wrote `bearer` in their token responses).
 */
function keycloakAccessTokenOnly(claims: Readonly<Record<string, unknown>>): void {
  const typ = claims.typ
  if (typeof typ !== 'string' || typ.toLowerCase() !== ACCESS_TOKEN_TYP) {
    throw new InvalidTokenError('the token is not a Keycloak access token (its "typ" claim is not "Bearer")')
  }
}

/**
 * Verifier options for the access tokens of a Keycloak realm (service-account tokens of the
 * client-credentials grant, and user tokens): pass to `createVerifier` as is, or spread and
 * override (`createVerifier({ ...keycloak({ baseUrl, realm, audience }), dispatcher })`).
 *
 * What it sets, from Keycloak's endpoint documentation
 * ({@link https://www.keycloak.org/securing-apps/oidc-layers | Securing applications with OpenID Connect, "Available endpoints"})
 * and its source (`TokenUtil`, `ClientCredentialsGrantType`), since the token format itself is
 * not written down:
 * - `issuer`: `{baseUrl}/realms/{realm}`.
 * - `jwksUri`: `{issuer}/protocol/openid-connect/certs`, the realm's certificate endpoint, so no
 *   discovery request is needed.
 * - `algorithms: ['RS256']`: the algorithm of the realm's default `rsa-generated` key. A realm or
 *   client set to another algorithm (ES256, PS256, EdDSA…) needs `algorithms` overridden.
 * - `typ: 'lenient'`: the header says `typ: JWT` unless the client opted in to `at+jwt`.
 * - `claims.clientId: ['client_id', 'azp', 'clientId']`: service-account tokens name the client
 *   in `client_id` (older servers: `clientId`), and every token names the authorized party in
 *   `azp`.
 * - `claims.scopes: ['scope']`: a space-separated string. Realm and client roles
 *   (`realm_access`, `resource_access`) are not scopes; read them in your own `check`.
 * - `check`: the `typ` claim must be `Bearer` (a token without it is refused), which keeps out ID
 *   tokens (`typ: "ID"`), whose header is `JWT` too. To add your own rule, call this one first:
 *   `check: async (claims, principal) => { await preset.check?.(claims, principal); … }`.
 *
 * @throws {ConfigurationError} a `baseUrl` that is not https (or loopback http), a `realm` that is
 *   empty or would change the URL, an empty `audience`, or the audience `account`.
 */
export function keycloak(options: KeycloakPresetOptions): VerifierOptions {
  const { baseUrl, realm, audience } = presetOptions('keycloak', options)
  const base = httpsUrlInput('keycloak', 'baseUrl', baseUrl, true)
  const name = urlSafeText('keycloak', 'realm', realm)
  const aud = audienceInput('keycloak', audience)
  if ((typeof aud === 'string' ? [aud] : aud).includes('account')) {
    presetError(
      'keycloak',
      'audience "account" is in the tokens of every client of the realm; give your API its own audience with an audience mapper',
    )
  }
  const issuer = `${base.origin}${base.pathname.replace(/\/+$/, '')}/realms/${encodeURIComponent(name)}`
  return {
    issuer,
    audience: aud,
    jwksUri: `${issuer}/protocol/openid-connect/certs`,
    algorithms: ['RS256'],
    typ: 'lenient',
    claims: { clientId: ['client_id', 'azp', 'clientId'], scopes: ['scope'] },
    check: keycloakAccessTokenOnly,
  }
}
