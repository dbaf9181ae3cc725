/**
 * `POST /introspect` (RFC 7662): an authenticated confidential client asks whether a token is
 * active. Anything but a live token of this server is exactly `{"active":false}`.
 *
 * @module introspection-endpoint
 */
import type { ClientAuthenticator } from './client-authentication.js'
import type { PresentedCertificate } from './client-certificate.js'
import { type EndpointResponse, noStoreJson } from './http-response.js'
import type { FormParams } from './request-form.js'
import type { TokenLookup } from './token-lookup.js'
import { readTokenRequest, type TokenRequestEndpoint } from './token-request.js'

const INACTIVE = '{"active":false}'

/** Whether claims bind their token to a DPoP key: a `cnf` holding a `jkt` (RFC 9449 §6). */
function isDpopBound(claims: Readonly<Record<string, unknown>>): boolean {
  const cnf = claims.cnf
  return typeof cnf === 'object' && cnf !== null && typeof (cnf as Record<string, unknown>).jkt === 'string'
}

/** Answers introspection requests. */
export class IntrospectionEndpoint {
  readonly #endpoint: TokenRequestEndpoint
  readonly #lookup: TokenLookup

  constructor(url: string, authenticator: ClientAuthenticator, lookup: TokenLookup) {
    this.#endpoint = { url, name: 'introspection', authenticator }
    this.#lookup = lookup
  }

  /** Answers one introspection request whose form body is already parsed. */
  async handle(
    authorization: string | undefined,
    params: FormParams,
    source: string,
    certificate?: PresentedCertificate,
  ): Promise<EndpointResponse> {
    const request = await readTokenRequest(this.#endpoint, authorization, params, source, certificate)
    if (request.error) return request.error
    const live = await this.#lookup.find(request.token)
    if (live === undefined) return noStoreJson(200, INACTIVE)
    // Every claim of the token (RFC 7662 §2.2 allows more members), those a hook added included;
    // a bound token's `cnf` with its `jkt` (and token_type DPoP, RFC 9449 §6.2) or its `x5t#S256`
    // (RFC 8705 §3.2).
    const tokenType = isDpopBound(live.claims) ? 'DPoP' : 'Bearer'
    const answer: Record<string, unknown> = { active: true, ...live.claims, token_type: tokenType }
    answer.active = true
    return noStoreJson(200, JSON.stringify(answer))
  }
}
