/**
 * What `/introspect` (RFC 7662 §2.1) and `/revoke` (RFC 7009 §2.1) share before they look at the
 * token: the caller authenticates as a confidential client, and names one `token`.
 *
 * @module token-request
 */
import type { ClientAuthenticator } from './client-authentication.js'
import type { PresentedCertificate } from './client-certificate.js'
import type { RegisteredClient } from './client-registry.js'
import { type EndpointResponse, oauthError } from './http-response.js'
import { type FormParams, single } from './request-form.js'

/** Outcome of {@link readTokenRequest}: the calling client and the token, or the error answer. */
export type TokenRequest =
  | { client: RegisteredClient; token: string; error?: undefined }
  | { client?: undefined; token?: undefined; error: EndpointResponse }

/** Where a token request is sent, and who checks its caller. */
export interface TokenRequestEndpoint {
  /** The endpoint's URL, also accepted as a client assertion's `aud`. */
  readonly url: string
  /** Names the endpoint in error descriptions, e.g. `introspection`. */
  readonly name: string
  /** Authenticates the caller. */
  readonly authenticator: ClientAuthenticator
}

/** Authenticates the caller of a token endpoint and reads the `token` parameter. */
export async function readTokenRequest(
  endpoint: TokenRequestEndpoint,
  authorization: string | undefined,
  params: FormParams,
  source: string,
  certificate: PresentedCertificate | undefined,
): Promise<TokenRequest> {
  const auth = await endpoint.authenticator.authenticate(
    authorization,
    params,
    endpoint.url,
    source,
    certificate,
  )
  if (auth.error) return auth
  if (auth.client.method === 'none') {
    return {
      error: oauthError(401, 'invalid_client', `public clients cannot use the ${endpoint.name} endpoint`),
    }
  }
  const token = single(params, 'token')
  if (token === undefined) return { error: oauthError(400, 'invalid_request', 'token is missing') }
  return { client: auth.client, token }
}
