/**
 * `POST /revoke` (RFC 7009): a client revokes one of its own access tokens. Unknown, expired or
 * garbage tokens get 200 as well (§2.2); another client's token is refused.
 *
 * @module revocation-endpoint
 */
import type { ClientAuthenticator } from './client-authentication.js'
import { type EndpointResponse, oauthError } from './http-response.js'
import type { FormParams } from './request-form.js'
import type { TokenLookup } from './token-lookup.js'
import { readTokenRequest, type TokenRequestEndpoint } from './token-request.js'

function revoked(): EndpointResponse {
  return { status: 200, headers: { 'cache-control': 'no-store' }, body: '' }
}

/** Answers revocation requests. */
export class RevocationEndpoint {
  readonly #endpoint: TokenRequestEndpoint
  readonly #lookup: TokenLookup

  constructor(url: string, authenticator: ClientAuthenticator, lookup: TokenLookup) {
    this.#endpoint = { url, name: 'revocation', authenticator }
    this.#lookup = lookup
  }

  /** Answers one revocation request whose form body is already parsed. */
  async handle(
    authorization: string | undefined,
    params: FormParams,
    source: string,
  ): Promise<EndpointResponse> {
    const request = await readTokenRequest(this.#endpoint, authorization, params, source)
    if (request.error) return request.error
    const live = await this.#lookup.find(request.token)
    if (live === undefined) return revoked()
    if (live.claims.client_id !== request.client.id) {
      return oauthError(400, 'invalid_request', 'the token was not issued to this client')
    }
    await live.revoke()
    return revoked()
  }
}
