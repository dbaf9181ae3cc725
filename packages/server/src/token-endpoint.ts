/**
 * `POST /token` for the client_credentials grant (RFC 6749 §4.4, §5.1, §5.2).
 *
 * @module token-endpoint
 */
import type { ClientAuthenticator } from './client-authentication.js'
import type { RegisteredClient } from './client-registry.js'
import { type EndpointResponse, noStoreJson, oauthError } from './http-response.js'
import { type FormParams, single } from './request-form.js'
import type { ResourceResolver, TokenTarget } from './resource.js'
import { grantScope } from './scope.js'
import type { AccessTokenIssuer } from './token-issuer.js'

/** What {@link TokenEndpoint} needs. */
export interface TokenEndpointOptions {
  url: string
  authenticator: ClientAuthenticator
  resources: ResourceResolver
  issuer: AccessTokenIssuer
}

function success(accessToken: string, target: TokenTarget, scope: string): EndpointResponse {
  return noStoreJson(
    200,
    JSON.stringify({
      access_token: accessToken,
      token_type: 'Bearer',
      expires_in: target.lifetimeSec,
      scope,
    }),
  )
}

/** Answers token requests; synchronous unless the client uses an assertion or the token is opaque. */
export class TokenEndpoint {
  readonly #options: TokenEndpointOptions

  constructor(options: TokenEndpointOptions) {
    this.#options = options
  }

  /** Answers one token request whose form body is already parsed. */
  handle(
    authorization: string | undefined,
    params: FormParams,
    source: string,
  ): EndpointResponse | Promise<EndpointResponse> {
    const grantType = single(params, 'grant_type')
    if (grantType === undefined) return oauthError(400, 'invalid_request', 'grant_type is missing')
    if (grantType !== 'client_credentials') {
      return oauthError(400, 'unsupported_grant_type', 'only the client_credentials grant is supported')
    }
    const auth = this.#options.authenticator.authenticate(authorization, params, this.#options.url, source)
    if (auth instanceof Promise) {
      return auth.then((result) => (result.error ? result.error : this.#grant(result.client, params)))
    }
    return auth.error ? auth.error : this.#grant(auth.client, params)
  }

  #grant(client: RegisteredClient, params: FormParams): EndpointResponse | Promise<EndpointResponse> {
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
    const scope = grantScope(single(params, 'scope'), client)
    if (scope.error) return scope.error
    const target = this.#options.resources.resolve(params.get('resource'), client)
    if (target.error) return target.error
    const token = this.#options.issuer.issue(client, scope.scope, target.target, params)
    if (typeof token === 'string') return success(token, target.target, scope.scope)
    return token.then((t) => success(t, target.target, scope.scope))
  }
}
