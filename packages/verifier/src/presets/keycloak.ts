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
   * trailing slash is dropped. See
   * {@link https://www.keycloak.org/securing-apps/oidc-layers | Securing applications with OpenID Connect, "Available endpoints"}.
   */
  baseUrl: string
  /**
   * The realm's name, as in `{baseUrl}/realms/{realm}`
   * ({@link https://www.keycloak.org/securing-apps/oidc-layers | same page}).
   */
  realm: string
  /**
   * The audience your API's tokens carry, compared exactly with `aud`. Keycloak does not put your
   * API in `aud` by default: add an audience mapper (`oidc-audience-mapper`) to the client or a
   * client scope. `account`, the audience most tokens of a realm carry by default, is refused: it
   * would accept any client's token. Keycloak's documentation does not describe the default `aud`:
   * this is what real service-account tokens carry, and the mapper is in Keycloak's source
   * ({@link https://github.com/keycloak/keycloak/blob/main/services/src/main/java/org/keycloak/protocol/oidc/mappers/AudienceProtocolMapper.java | AudienceProtocolMapper.java}).
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
 * Where each field comes from. Only the URLs are in Keycloak's documentation
 * ({@link https://www.keycloak.org/securing-apps/oidc-layers | Securing applications with OpenID Connect, "Available endpoints"}).
 * The token format (`typ`, `claims`, `check`) and the default key's algorithm are not documented
 * by Keycloak: they come from Keycloak's source code, linked below, and from tokens real servers
 * issue, so a future release could change them without notice.
 * - `issuer`: `{baseUrl}/realms/{realm}` (documentation, above).
 * - `jwksUri`: `{issuer}/protocol/openid-connect/certs`, the realm's certificate endpoint, so no
 *   discovery request is needed (documentation, above).
 * - `algorithms: ['RS256']`: the algorithm of the realm's default key, the `rsa-generated` provider
 *   (source: {@link https://github.com/keycloak/keycloak/blob/main/services/src/main/java/org/keycloak/keys/GeneratedRsaKeyProviderFactory.java | GeneratedRsaKeyProviderFactory.java}; RS256 as its algorithm is seen in
 *   servers' key sets and provisioning tools, not stated in Keycloak's docs). A realm or client set
 *   to another algorithm (ES256, PS256, EdDSA…) needs `algorithms` overridden.
 * - `typ: 'lenient'`: the header says `typ: JWT` unless the client opted in to `at+jwt`
 *   (`TOKEN_TYPE_JWT_ACCESS_TOKEN`; source: {@link https://github.com/keycloak/keycloak/blob/main/core/src/main/java/org/keycloak/util/TokenUtil.java | TokenUtil.java}, and
 *   {@link https://github.com/keycloak/keycloak/pull/37573 | keycloak#37573}, which added the
 *   per-client `access.token.header.type.rfc9068` option, off by default).
 * - `claims.clientId: ['client_id', 'azp', 'clientId']`: service-account tokens name the client
 *   in `client_id` (older servers: `clientId`, kept in the source "for backwards compatibility"),
 *   and every token names the authorized party in `azp` (source:
 *   {@link https://github.com/keycloak/keycloak/blob/main/services/src/main/java/org/keycloak/protocol/oidc/grants/ClientCredentialsGrantType.java | ClientCredentialsGrantType.java}).
 * - `claims.scopes: ['scope']`: a space-separated string (source: the same file, and real
 *   tokens). Realm and client roles (`realm_access`, `resource_access`) are not scopes; read them
 *   in your own `check`.
 * - `check`: the `typ` claim must be `Bearer` (a token without it is refused), which keeps out ID
 *   tokens (`typ: "ID"`), whose header is `JWT` too (source: {@link https://github.com/keycloak/keycloak/blob/main/core/src/main/java/org/keycloak/util/TokenUtil.java | TokenUtil.java},
 *   `TOKEN_TYPE_BEARER`, `TOKEN_TYPE_ID`, `TOKEN_TYPE_REFRESH`, `TOKEN_TYPE_OFFLINE`; and
 *   {@link https://github.com/keycloak/keycloak/blob/main/services/src/main/java/org/keycloak/protocol/oidc/grants/ClientCredentialsGrantType.java | ClientCredentialsGrantType.java}, which also returns an ID token when the
 *   request's scope has `openid`). To add your own rule, call this one first:
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
