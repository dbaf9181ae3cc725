/**
 * The Microsoft Entra ID profile: v2.0 access tokens of the client-credentials flow, issued at the
 * tenant's v2.0 endpoints with Entra's request rules and answer shapes.
 *
 * Sources (Microsoft's documentation unless marked): the client-credentials flow
 * (https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-client-creds-grant-flow),
 * access tokens (…/access-tokens), the access-token claims reference
 * (…/access-token-claims-reference), and the OpenID Connect page (…/v2-protocols-oidc).
 *
 * @module profiles/entra-profile
 */
import { randomUUID } from 'node:crypto'
import { toErrorDescription } from '@oauth-m2m/core/internal'
import { entraId } from '@oauth-m2m/verifier'
import { ProfileSettingsCheck } from './profile-settings.js'
import { atOrigin, type ProfileUrlOptions, profileHosts } from './profile-urls.js'
import { jsonAnswer, reshapeJsonAnswer, without } from './provider-answers.js'
import { randomId, stableGuid } from './provider-ids.js'
import type { ProfileRuntime, ProfileSignContext, ProviderProfile } from './provider-profile.js'
import { isPostTo, readForm, withForm } from './token-request-body.js'

/** Settings of the `entra` profile. */
export interface EntraProfileSettings {
  /** The profile's name. */
  readonly name: 'entra'
  /** The directory (tenant) ID, a GUID: `tid`, and part of `iss` and of every URL. Default {@link ENTRA_TEST_TENANT_ID}. */
  readonly tenantId?: string
  /** The API's application (client) ID, a GUID: the `aud` of its v2.0 tokens. Default {@link ENTRA_TEST_API_APP_ID}. */
  readonly apiAppId?: string
  /**
   * The API's Application ID URI: clients ask for `{appIdUri}/.default` (or
   * `{apiAppId}/.default`). Default `api://{apiAppId}`.
   */
  readonly appIdUri?: string
}

/** Tenant of the `entra` profile when none is given (a made-up GUID). */
export const ENTRA_TEST_TENANT_ID = '8f0c1a3e-5b2d-4c7e-9a16-3d4b5e6f7a80'
/** API application (client) ID of the `entra` profile when none is given (a made-up GUID). */
export const ENTRA_TEST_API_APP_ID = '3c9a7e15-2b4d-4f6a-8e1c-5d7b9f0a2c4e'
/** Client ID of the default client under the `entra` profile: Entra's client IDs are GUIDs. */
export const ENTRA_TEST_CLIENT_ID = 'b5e0d2c4-7a1f-4e3b-9c8d-6f2a1b0e4d7c'

const LOGIN = 'https://login.microsoftonline.com'
const DEFAULT_SCOPE_SUFFIX = '/.default'

/**
 * `azpacr`: how the client authenticated, "0" public, "1" client secret, "2" certificate
 * (claims reference, `azpacr`). A signed assertion is how Entra's certificate credentials (and
 * federated credentials) arrive.
 */
function azpacr(method: string | undefined): '0' | '1' | '2' {
  if (method === 'none') return '0'
  if (
    method === 'private_key_jwt' ||
    method === 'tls_client_auth' ||
    method === 'self_signed_tls_client_auth'
  )
    return '2'
  return '1'
}

/** "2020-10-07 19:42:27Z", the form of `timestamp` in Entra's error answers. */
function entraTimestamp(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z')
}

/**
 * An error answer as Entra sends it: `error`, `error_description` starting with the AADSTS code
 * and ending with the trace id, correlation id and time, `error_codes`, `timestamp`, `trace_id`,
 * `correlation_id`, HTTP 400 (client-credentials flow page, "Error response"; the CRLF-separated
 * trailer of `error_description` is what real answers carry [C: captured answers]). CR and LF are
 * outside the characters RFC 6749 §5.2 allows in `error_description`: kept on purpose, since a
 * client under test meets them from the real Entra.
 */
function entraError(now: number, error: string, code: number, message: string): Response {
  const traceId = randomUUID()
  const correlationId = randomUUID()
  const timestamp = entraTimestamp(now)
  return jsonAnswer(400, {
    error,
    error_description: `AADSTS${code}: ${message}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${correlationId}\r\nTimestamp: ${timestamp}`,
    error_codes: [code],
    timestamp,
    trace_id: traceId,
    correlation_id: correlationId,
  })
}

const INVALID_SCOPE = "The provided value for the input parameter 'scope' is not valid."

/** Resolves the `entra` profile. */
export function entraProfile(
  settings: EntraProfileSettings,
  options: ProfileUrlOptions = {},
): ProviderProfile {
  const check = new ProfileSettingsCheck('entra', settings, ['tenantId', 'apiAppId', 'appIdUri'])
  const tenantId = (check.text('tenantId') ?? ENTRA_TEST_TENANT_ID).toLowerCase()
  const apiAppId = (check.text('apiAppId', 'guid') ?? ENTRA_TEST_API_APP_ID).toLowerCase()
  const appIdUri = check.text('appIdUri', 'uri') ?? `api://${apiAppId}`
  // The preset refuses what Entra would never issue (a tenant that is no GUID, …): same rules here.
  const preset = entraId({ tenantId, audience: apiAppId })
  const url = (path: string): string => atOrigin(`${LOGIN}/${tenantId}${path}`, options.origin)
  const issuer = url('/v2.0')
  const endpoints = {
    token: url('/oauth2/v2.0/token'),
    jwks: url('/discovery/v2.0/keys'),
    // Entra has no introspection or revocation endpoint for access tokens.
    introspection: undefined,
    revocation: undefined,
    metadata: [url('/v2.0/.well-known/openid-configuration')],
  }
  // What a client may put before "/.default" to name this API: its App ID URI or its client ID.
  const resourceNames = new Set([appIdUri, apiAppId])

  const claims = ({ client, scopes, claims: issued }: ProfileSignContext) => {
    // App-only tokens carry the service principal's object id as both `oid` and `sub`
    // ([D] `oid`; [C] `sub` == `oid` in real app tokens): one per client and tenant.
    const objectId = stableGuid('entra-service-principal', tenantId, client.client_id)
    return {
      nbf: issued.iat,
      azp: client.client_id,
      azpacr: azpacr(client.token_endpoint_auth_method),
      // [D] an optional claim Entra documents for app-only tokens; [C] present in real ones.
      idtyp: 'app',
      oid: objectId,
      sub: objectId,
      // Application permissions, an array; absent when the client was granted none [D].
      roles: scopes.length > 0 ? [...scopes] : undefined,
      tid: tenantId,
      // Entra's token id; it writes no `jti` [D].
      uti: randomId(16),
      ver: '2.0',
      // v2.0 tokens name the client in `azp` and carry no `scp` for app-only tokens [D].
      jti: undefined,
      client_id: undefined,
      scope: undefined,
    }
  }

  const interceptor =
    (runtime: ProfileRuntime) => async (request: Request, next: (r: Request) => Promise<Response>) => {
      if (!isPostTo(request, endpoints.token)) return next(request)
      const form = await readForm(request, runtime.maxBodyBytes)
      if (form === undefined || form.get('grant_type') !== 'client_credentials') return next(request)
      const scopes = form.getAll('scope')
      // [C] AADSTS900144 when `scope` is missing (captured answers); [D] that it is required.
      if (scopes.length === 0 || scopes.every((s) => s.trim() === '')) {
        return entraError(
          runtime.now(),
          'invalid_request',
          900144,
          "The request body must contain the following parameter: 'scope'.",
        )
      }
      // [D] the scope must be `{resource}/.default`, all of one resource, else invalid_scope AADSTS70011.
      const tokens = scopes.flatMap((s) => s.split(' ')).filter((t) => t !== '')
      if (!tokens.every((t) => t.endsWith(DEFAULT_SCOPE_SUFFIX) && t.length > DEFAULT_SCOPE_SUFFIX.length)) {
        return entraError(runtime.now(), 'invalid_scope', 70011, INVALID_SCOPE)
      }
      const named = new Set(tokens.map((t) => t.slice(0, -DEFAULT_SCOPE_SUFFIX.length)))
      if (named.size !== 1) return entraError(runtime.now(), 'invalid_scope', 70011, INVALID_SCOPE)
      const [resource] = named
      if (!resourceNames.has(resource!)) {
        // [C] AADSTS500011 for a resource the tenant does not know (Microsoft Q&A answers).
        return entraError(
          runtime.now(),
          'invalid_resource',
          500011,
          `The resource principal named ${toErrorDescription(resource!, 200)} was not found in the tenant named ${tenantId}.`,
        )
      }
      // `.default` stands for every permission granted to the client: the server grants all of the
      // client's scopes when none is named, for the one API.
      form.delete('scope')
      form.delete('resource')
      form.set('resource', appIdUri)
      const answer = await next(withForm(request, form))
      if (answer.status !== 200) return answer
      // [D] the v2 answer is token_type, expires_in (a number), access_token; no `scope`.
      // [C]/[U] `ext_expires_in` (a number), which real v2 answers carry, not in the doc sample.
      return reshapeJsonAnswer(answer, (body) => ({
        ...without(body, 'scope'),
        ext_expires_in: body.expires_in,
      }))
    }

  return {
    name: 'entra',
    issuer,
    origin: options.origin,
    endpoints,
    hosts: profileHosts(issuer, endpoints),
    // [D] header `typ` is always "JWT", alg RS256.
    accessTokenTyp: 'JWT',
    // [D] Entra's default lifetime is random between 60 and 90 minutes; the doc sample says 3599.
    accessTokenLifetimeSec: 3599,
    resource: { resource: appIdUri, audience: apiAppId },
    // [D] the `aud` of v2.0 tokens is the API's client ID.
    audience: apiAppId,
    defaultClient: { client_id: ENTRA_TEST_CLIENT_ID },
    claims,
    interceptor,
    verifierPreset: () => preset,
  }
}
