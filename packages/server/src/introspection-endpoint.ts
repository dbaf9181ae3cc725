/**
 * `POST /introspect` (RFC 7662): an authenticated confidential client asks whether a token is
 * active. Anything but a live token of this server is exactly `{"active":false}`.
 *
 * @module introspection-endpoint
 */
import type { ClientAuthenticator } from './client-authentication.js'
import { type EndpointResponse, noStoreJson, oauthError } from './http-response.js'
import { type FormParams, single } from './request-form.js'
import type { TokenLookup } from './token-lookup.js'

const INACTIVE = '{"active":false}'

/** Answers introspection requests. */
export class IntrospectionEndpoint {
  readonly #url: string
  readonly #authenticator: ClientAuthenticator
  readonly #lookup: TokenLookup

  constructor(url: string, authenticator: ClientAuthenticator, lookup: TokenLookup) {
    this.#url = url
    this.#authenticator = authenticator
    this.#lookup = lookup
  }

  /** Answers one introspection request whose form body is already parsed. */
  async handle(
    authorization: string | undefined,
    params: FormParams,
    source: string,
  ): Promise<EndpointResponse> {
    const auth = await this.#authenticator.authenticate(authorization, params, this.#url, source)
    if (auth.error) return auth.error
    if (auth.client.method === 'none') {
      return oauthError(401, 'invalid_client', 'public clients cannot use the introspection endpoint')
    }
    const token = single(params, 'token')
    if (token === undefined) return oauthError(400, 'invalid_request', 'token is missing')
    const live = await this.#lookup.find(token)
    if (live === undefined) return noStoreJson(200, INACTIVE)
    const { client_id, scope, exp, iat, sub, aud, iss, jti } = live.claims
    return noStoreJson(
      200,
      JSON.stringify({ active: true, client_id, scope, exp, iat, sub, aud, iss, token_type: 'Bearer', jti }),
    )
  }
}
