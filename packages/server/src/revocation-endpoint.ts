/**
 * `POST /revoke` (RFC 7009): a client revokes one of its own access tokens. Unknown, expired or
 * garbage tokens get 200 as well (§2.2); another client's token is refused.
 *
 * @module revocation-endpoint
 */
import type { ClientAuthenticator } from './client-authentication.js'
import { type EndpointResponse, oauthError } from './http-response.js'
import { type FormParams, single } from './request-form.js'
import type { TokenLookup } from './token-lookup.js'

function revoked(): EndpointResponse {
  return { status: 200, headers: { 'cache-control': 'no-store' }, body: '' }
}

/** Answers revocation requests. */
export class RevocationEndpoint {
  readonly #url: string
  readonly #authenticator: ClientAuthenticator
  readonly #lookup: TokenLookup

  constructor(url: string, authenticator: ClientAuthenticator, lookup: TokenLookup) {
    this.#url = url
    this.#authenticator = authenticator
    this.#lookup = lookup
  }

  /** Answers one revocation request whose form body is already parsed. */
  async handle(
    authorization: string | undefined,
    params: FormParams,
    source: string,
  ): Promise<EndpointResponse> {
    const auth = await this.#authenticator.authenticate(authorization, params, this.#url, source)
    if (auth.error) return auth.error
    if (auth.client.method === 'none') {
      return oauthError(401, 'invalid_client', 'public clients cannot use the revocation endpoint')
    }
    const token = single(params, 'token')
    if (token === undefined) return oauthError(400, 'invalid_request', 'token is missing')
    const live = await this.#lookup.find(token)
    if (live === undefined) return revoked()
    if (live.claims.client_id !== auth.client.id) {
      return oauthError(400, 'invalid_request', 'the token was not issued to this client')
    }
    await live.revoke()
    return revoked()
  }
}
