/**
 * `POST /revoke` (RFC 7009): a client revokes one of its own access tokens. Unknown, expired or
 * garbage tokens get 200 as well (§2.2); another client's token is refused. When the store cannot
 * remember one more revocation, 503 with `Retry-After` (§2.2.1): the client keeps the token as live.
 *
 * @module revocation-endpoint
 */
import type { ClientAuthenticator } from './client-authentication.js'
import type { PresentedCertificate } from './client-certificate.js'
import { type EndpointResponse, oauthError, temporarilyUnavailable } from './http-response.js'
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

  readonly #now: () => number

  /** @param now The server's clock, epoch ms, for `Retry-After`. */
  constructor(url: string, authenticator: ClientAuthenticator, lookup: TokenLookup, now: () => number) {
    this.#endpoint = { url, name: 'revocation', authenticator }
    this.#lookup = lookup
    this.#now = now
  }

  /** Answers one revocation request whose form body is already parsed. */
  async handle(
    authorization: string | undefined,
    params: FormParams,
    source: string,
    certificate?: PresentedCertificate,
  ): Promise<EndpointResponse> {
    const request = await readTokenRequest(this.#endpoint, authorization, params, source, certificate)
    if (request.error) return request.error
    const live = await this.#lookup.find(request.token)
    if (live === undefined) return revoked()
    if (live.claims.client_id !== request.client.id) {
      return oauthError(400, 'invalid_request', 'the token was not issued to this client')
    }
    const full = await live.revoke()
    if (full)
      return temporarilyUnavailable(
        'too many revocations are in force; retry later',
        full.fullUntilMs,
        this.#now(),
      )
    return revoked()
  }
}
