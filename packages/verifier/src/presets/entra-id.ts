/**
 * The verifier preset for Microsoft Entra ID (formerly Azure AD) access tokens.
 *
 * @module presets/entra-id
 */
import type { VerifierOptions } from '../verifier-options.js'
import { audienceInput, presetError, presetOptions, urlSafeText } from './preset-input.js'

/** Options of {@link entraId}. */
export interface EntraIdPresetOptions {
  /**
   * The directory (tenant) ID, a GUID such as `72f988bf-86f1-41af-91ab-2d7cd011db47` (any letter
   * case; it is written in lower case, as Entra writes `tid` and `iss`). A tenant's domain name is
   * refused: Entra's `iss` always names the tenant by its GUID, so an issuer built from the domain
   * would never match. So are `common`, `organizations` and `consumers`, which are no tenant.
   * Documentation:
   * {@link https://learn.microsoft.com/en-us/entra/identity-platform/access-token-claims-reference | access token claims reference (`iss`, `tid`)}.
   */
  tenantId: string
  /**
   * The `aud` values your API's tokens carry, compared exactly. v2.0 tokens carry the API's
   * application (client) ID, a GUID. v1.0 tokens carry the App ID URI or the client ID, and the
   * App ID URI "with or without a trailing slash" (list every spelling your tokens use, or set the
   * `use_guid` optional claim). Documentation:
   * {@link https://learn.microsoft.com/en-us/entra/identity-platform/access-token-claims-reference | access token claims reference (`aud`)}.
   */
  audience: string | readonly string[]
  /**
   * The access-token version your API receives: `2` (default) or `1`. Entra chooses it by the
   * API's app-manifest `accessTokenAcceptedVersion` (`null` or `1` gives v1.0 tokens, `2` gives
   * v2.0), not by the endpoint the client asked, so a client using the v2.0 token endpoint still
   * gets v1.0 tokens for an API whose manifest says `null`. See
   * {@link https://learn.microsoft.com/en-us/entra/identity-platform/access-tokens | access tokens (token formats)}.
   * For both versions, pass an array of two verifier options to `createVerifier`.
   */
  version?: 1 | 2
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const LOGIN = 'https://login.microsoftonline.com'

/**
 * Verifier options for the access tokens Microsoft Entra ID issues to your API (app-only tokens
 * of the client-credentials flow, and delegated tokens): pass to `createVerifier` as is, or
 * spread and override (`createVerifier({ ...entraId({ tenantId, audience }), dispatcher })`).
 *
 * What it sets, each from Microsoft's documentation:
 * - `issuer`: `https://login.microsoftonline.com/{tenantId}/v2.0` for v2.0 tokens,
 *   `https://sts.windows.net/{tenantId}/` (with the trailing slash) for v1.0 tokens
 *   ({@link https://learn.microsoft.com/en-us/entra/identity-platform/access-token-claims-reference | claims reference, `iss`}).
 * - `jwksUri`, so no discovery request is needed: for v2.0,
 *   `https://login.microsoftonline.com/{tenantId}/discovery/v2.0/keys`, the `jwks_uri` Microsoft
 *   documents for the tenant's v2.0 OpenID configuration
 *   ({@link https://learn.microsoft.com/en-us/entra/identity-platform/access-tokens | access tokens, "Validate the signature"}).
 *   For v1.0, `…/{tenantId}/discovery/keys`, the tenant's form of the v1.0 key URL. This is not
 *   what Microsoft publishes as the v1.0 `jwks_uri`: real v1.0 OpenID configurations (seen in a
 *   captured test fixture, not in Microsoft's documentation) list the shared
 *   `https://login.microsoftonline.com/common/discovery/keys`. The tenant form is known from the
 *   same kind of evidence, and from the same page's `?appid=` form for apps with custom signing
 *   keys. That both always serve the same keys is not documented; to use exactly the published
 *   URL, override `jwksUri` with the `common` one.
 * - `algorithms: ['RS256']`: Entra signs access tokens with RSA keys and RS256 (same page).
 * - `typ: 'lenient'`: Entra's header says `typ: JWT`, never `at+jwt`
 *   ({@link https://learn.microsoft.com/en-us/entra/identity-platform/access-token-claims-reference | claims reference, header claims}).
 * - `claims.clientId: ['azp', 'appid']`: v2.0 tokens name the client in `azp`, v1.0 tokens in
 *   `appid` (same page).
 * - `claims.scopes: ['roles', 'scp']`: application permissions arrive in `roles` (an array; the
 *   client-credentials flow "uses this set of permission in place of user scopes"), delegated
 *   scopes in `scp` (a space-separated string) (same page, and
 *   {@link https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-client-creds-grant-flow | client credentials flow}).
 *   An app-only token may carry no `roles` at all unless the API requires assignment; it then
 *   has no scopes, and `requiredScopes` refuses it.
 *
 * There is no `ver` check: the issuer already differs between v1.0 and v2.0 tokens. What keeps ID
 * tokens out is the audience (an ID token's `aud` is the client application that signed the user
 * in, so never list the client ID of an app that also signs users in) and the client-id claims
 * (`azp`, `appid`), which Entra does not put in ID tokens
 * ({@link https://learn.microsoft.com/en-us/entra/identity-platform/id-token-claims-reference | ID token claims reference}).
 * Tokens for Microsoft Graph cannot be validated by anyone but Graph; this preset is for your own
 * API's tokens.
 *
 * @throws {ConfigurationError} `tenantId` not a GUID, an empty `audience`, or a `version` other than 1 or 2.
 */
export function entraId(options: EntraIdPresetOptions): VerifierOptions {
  const { tenantId, audience, version = 2 } = presetOptions('entraId', options)
  const tenant = urlSafeText(
    'entraId',
    'tenantId',
    tenantId,
    GUID,
    'the directory (tenant) ID, a GUID: Entra names the tenant by its GUID in iss, never by a domain name, and "common", "organizations" or "consumers" are no tenant',
  ).toLowerCase()
  if (version !== 1 && version !== 2) presetError('entraId', 'version must be 1 or 2')
  return {
    issuer: version === 2 ? `${LOGIN}/${tenant}/v2.0` : `https://sts.windows.net/${tenant}/`,
    audience: audienceInput('entraId', audience),
    jwksUri: new URL(version === 2 ? `/${tenant}/discovery/v2.0/keys` : `/${tenant}/discovery/keys`, LOGIN)
      .href,
    algorithms: ['RS256'],
    typ: 'lenient',
    claims: { clientId: ['azp', 'appid'], scopes: ['roles', 'scp'] },
  }
}
