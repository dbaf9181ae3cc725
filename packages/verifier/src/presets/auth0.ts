/**
 * The verifier preset for Auth0 access tokens.
 *
 * @module presets/auth0
 */
import type { VerifierOptions } from '../verifier-options.js'
import { audienceInput, hostNameInput, presetOptions } from './preset-input.js'

/** Options of {@link auth0}. */
export interface Auth0PresetOptions {
  /**
   * The tenant's domain, a host name such as `acme.us.auth0.com`, or your custom domain: the one
   * your clients request tokens from, since Auth0 writes that domain into `iss`
   * ({@link https://auth0.com/docs/secure/tokens/access-tokens/get-access-tokens | get access tokens}).
   * Without `https://` and without a path.
   */
  domain: string
  /**
   * Your API's identifier in Auth0 (the `audience` clients request tokens for), compared exactly
   * with `aud`
   * ({@link https://auth0.com/docs/secure/tokens/access-tokens/access-token-profiles | access token profiles}).
   */
  audience: string | readonly string[]
}

/**
 * Verifier options for the access tokens Auth0 issues for your API, in both of Auth0's
 * access-token profiles: pass to `createVerifier` as is, or spread and override
 * (`createVerifier({ ...auth0({ domain, audience }), dispatcher })`).
 *
 * What it sets, each from Auth0's documentation:
 * - `issuer`: `https://{domain}/`, with the trailing slash
 *   ({@link https://auth0.com/docs/secure/tokens/access-tokens/access-token-profiles | access token profiles, `iss`}).
 * - `jwksUri`: `https://{domain}/.well-known/jwks.json`, so no discovery request is needed
 *   ({@link https://auth0.com/docs/secure/tokens/json-web-tokens/json-web-key-sets | JSON Web Key Sets}).
 * - `algorithms: ['RS256']`: Auth0's default and recommended signing algorithm. An API set to
 *   PS256 needs `algorithms: ['PS256']` on top; one set to HS256 (signed with a shared secret, no
 *   JWKS) cannot be verified with public keys
 *   ({@link https://auth0.com/docs/get-started/applications/signing-algorithms | signing algorithms}).
 * - `typ: 'lenient'`: the Auth0 token profile writes `typ: JWT`, the RFC 9068 profile `at+jwt`
 *   ({@link https://auth0.com/docs/secure/tokens/access-tokens/access-token-profiles | access token profiles}).
 * - `claims.clientId: ['client_id', 'azp']`: the RFC 9068 profile names the client in
 *   `client_id`, the Auth0 profile in `azp` (same page).
 * - `claims.scopes: ['scope', 'permissions']`: granted scopes in `scope` (a space-separated
 *   string), and, with RBAC and "Add Permissions in the Access Token", in `permissions` (an array)
 *   (same page).
 *
 * Auth0 marks neither profile's access tokens apart from its ID tokens (both may say `typ: JWT`):
 * what keeps ID tokens out is the audience, since an ID token's `aud` is the application's client
 * ID, never your API's identifier. The client-credentials flow returns no ID token at all.
 *
 * @throws {ConfigurationError} a `domain` that is not a bare host name, or an empty `audience`.
 */
export function auth0(options: Auth0PresetOptions): VerifierOptions {
  const { domain, audience } = presetOptions('auth0', options)
  const host = hostNameInput('auth0', 'domain', domain, 'acme.us.auth0.com')
  const origin = new URL(`https://${host}`)
  return {
    issuer: origin.href,
    audience: audienceInput('auth0', audience),
    jwksUri: new URL('/.well-known/jwks.json', origin).href,
    algorithms: ['RS256'],
    typ: 'lenient',
    claims: { clientId: ['client_id', 'azp'], scopes: ['scope', 'permissions'] },
  }
}
