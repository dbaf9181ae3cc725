/**
 * `POST /token` for the client_credentials grant (RFC 6749 §4.4, §5.1, §5.2), with DPoP-bound
 * tokens for requests that carry a proof (RFC 9449 §5), and certificate-bound tokens (RFC 8705 §3)
 * for clients registered so, or for all when `mtls.certificateBoundAccessTokens` is set.
 *
 * @module token-endpoint
 */
import type { VerifiedDpopProof } from '@oauth-m2m/core/internal'

import type { ClientAuthenticator } from './client-authentication.js'
import type { PresentedCertificate } from './client-certificate.js'
import type { RegisteredClient } from './client-registry.js'
import { type EndpointResponse, noStoreJson, oauthError } from './http-response.js'
import { type FormParams, single } from './request-form.js'
import type { ResourceResolver, TokenTarget } from './resource.js'
import { grantScope } from './scope.js'
import type { AccessTokenIssuer, TokenBinding } from './token-issuer.js'
import type { TokenRequestDpop } from './token-request-dpop.js'

/** What {@link TokenEndpoint} needs. */
export interface TokenEndpointOptions {
  url: string
  authenticator: ClientAuthenticator
  resources: ResourceResolver
  issuer: AccessTokenIssuer
  /** The DPoP rules of this endpoint. */
  dpop: TokenRequestDpop
  /** Whether every token is bound to the client certificate of its request (`mtls.certificateBoundAccessTokens`). */
  bindAllToCertificate: boolean
  /**
   * Whether every token must be sender-constrained (`profile: 'fapi2'`, FAPI 2.0 §5.3.2.1 items 4
   * and 5): a request without a DPoP proof gets a token bound to its client certificate, and one
   * with neither is refused.
   */
  senderConstrained: boolean
}

function success(
  accessToken: string,
  tokenType: 'Bearer' | 'DPoP',
  target: TokenTarget,
  scope: string,
  headers: Record<string, string> | undefined,
): EndpointResponse {
  return noStoreJson(
    200,
    JSON.stringify({
      access_token: accessToken,
      token_type: tokenType,
      expires_in: target.lifetimeSec,
      scope,
    }),
    headers,
  )
}

/** Answers token requests; synchronous unless the client uses an assertion or the token is opaque. */
export class TokenEndpoint {
  readonly #options: TokenEndpointOptions

  constructor(options: TokenEndpointOptions) {
    this.#options = options
  }

  /**
   * Answers one token request whose form body is already parsed.
   *
   * @param dpop Every `DPoP` header of the request, as received.
   * @param certificate The client certificate of the request, if any.
   */
  handle(
    authorization: string | undefined,
    params: FormParams,
    source: string,
    dpop: readonly string[],
    certificate?: PresentedCertificate,
  ): EndpointResponse | Promise<EndpointResponse> {
    const grantType = single(params, 'grant_type')
    if (grantType === undefined) return oauthError(400, 'invalid_request', 'grant_type is missing')
    if (grantType !== 'client_credentials') {
      return oauthError(400, 'unsupported_grant_type', 'only the client_credentials grant is supported')
    }
    // The proof first: it costs no store round trip, and a client asked for a nonce (§8) has not
    // spent a client assertion on a request that could not succeed.
    const header = this.#options.dpop.read(dpop)
    if (header.error) return header.error
    const { proof } = header
    const auth = this.#options.authenticator.authenticate(
      authorization,
      params,
      this.#options.url,
      source,
      certificate,
    )
    if (auth instanceof Promise) {
      return auth.then((result) =>
        result.error ? result.error : this.#grant(result.client, params, proof, certificate),
      )
    }
    return auth.error ? auth.error : this.#grant(auth.client, params, proof, certificate)
  }

  #grant(
    client: RegisteredClient,
    params: FormParams,
    proof: VerifiedDpopProof | undefined,
    certificate: PresentedCertificate | undefined,
  ): EndpointResponse | Promise<EndpointResponse> {
    if (client.method === 'none') {
      return oauthError(400, 'unauthorized_client', 'public clients cannot use the client_credentials grant')
    }
    if (!client.mayUseClientCredentials) {
      return oauthError(
        400,
        'unauthorized_client',
        'this client is not registered for the client_credentials grant',
      )
    }
    if (proof === undefined) {
      const missing = this.#options.dpop.missing(client)
      if (missing !== undefined) return missing
    }
    let x5t: string | undefined
    if (client.certificateBound || this.#options.bindAllToCertificate) {
      // RFC 8705 names no error for this; the certificate is a missing part of the request.
      if (certificate === undefined) {
        return oauthError(
          400,
          'invalid_request',
          'access tokens of this client are bound to its TLS client certificate, and the request presented none',
        )
      }
      x5t = certificate.thumbprint
    } else if (this.#options.senderConstrained && proof === undefined) {
      if (certificate === undefined) {
        return oauthError(
          400,
          'invalid_request',
          'every access token must be sender-constrained (FAPI 2.0): send a DPoP proof or present a TLS client certificate',
        )
      }
      x5t = certificate.thumbprint
    }
    const scope = grantScope(single(params, 'scope'), client)
    if (scope.error) return scope.error
    const target = this.#options.resources.resolve(params.get('resource'), client)
    if (target.error) return target.error
    if (proof !== undefined) return this.#grantBound(client, scope.scope, target.target, params, proof, x5t)
    const binding = x5t === undefined ? undefined : { 'x5t#S256': x5t }
    const token = this.#options.issuer.issue(client, scope.scope, target.target, params, binding)
    if (typeof token === 'string') return success(token, 'Bearer', target.target, scope.scope, undefined)
    return token.then((t) => success(t, 'Bearer', target.target, scope.scope, undefined))
  }

  /** A token bound to the proof's key, once the proof is spent (RFC 9449 §5, §6). */
  async #grantBound(
    client: RegisteredClient,
    scope: string,
    target: TokenTarget,
    params: FormParams,
    proof: VerifiedDpopProof,
    x5t: string | undefined,
  ): Promise<EndpointResponse> {
    const { dpop, issuer } = this.#options
    const refused = await dpop.spend(proof)
    if (refused !== undefined) return refused
    const binding: TokenBinding = x5t === undefined ? { jkt: proof.jkt } : { jkt: proof.jkt, 'x5t#S256': x5t }
    const token = await issuer.issue(client, scope, target, params, binding)
    return success(token, 'DPoP', target, scope, dpop.answerHeaders())
  }
}
