/**
 * Errors of the token client that core does not already define. Like every oauth-m2m error they
 * carry a stable `code` and never a secret, an assertion or a token.
 *
 * @module errors
 */
import { OAuthM2MError, type OAuthM2MErrorOptions } from '@oauth-m2m/core'

/** The client was closed with `close()`; it no longer fetches tokens or sends requests. */
export class ClientClosedError extends OAuthM2MError {
  constructor() {
    super('ERR_CLIENT_CLOSED', 'the token client is closed')
  }
}

/**
 * The authorization server asked (with `Retry-After` on a 429 or 503) not to be called for this
 * token before a given time, and no valid token is cached: the call fails fast instead of
 * hammering the server. The original answer is the `cause`.
 */
export class RetryLaterError extends OAuthM2MError {
  /** Milliseconds until the server may be asked again. */
  readonly retryAfterMs: number

  constructor(retryAfterMs: number, options?: OAuthM2MErrorOptions) {
    super(
      'ERR_RETRY_LATER',
      `the authorization server asked not to be called again for ${Math.ceil(retryAfterMs / 1000)} s`,
      options,
    )
    this.retryAfterMs = retryAfterMs
  }
}

/**
 * A request that must carry an access token was not sent, because no token could be obtained.
 * The reason (an `OAuthResponseError`, `NetworkError`, …) is the `cause`.
 */
export class TokenUnavailableError extends OAuthM2MError {
  /** Origin of the request that was not sent. */
  readonly origin: string

  constructor(origin: string, options?: OAuthM2MErrorOptions) {
    const reason = options?.cause instanceof Error ? `: ${options.cause.message}` : ''
    super('ERR_TOKEN_UNAVAILABLE', `request to ${origin} was not sent: no access token${reason}`, options)
    this.origin = origin
  }
}

/**
 * DPoP was asked for (the `dpop` option) but the token endpoint answered with a Bearer token
 * (`token_type: Bearer`): the server does not bind tokens to the client's key, so a stolen token
 * would work for anyone. Set `dpop.allowBearerFallback` to accept such tokens.
 */
export class DpopNotBoundError extends OAuthM2MError {
  constructor() {
    super(
      'ERR_DPOP_NOT_BOUND',
      'the token endpoint answered with a Bearer token although DPoP was asked for (set dpop.allowBearerFallback to accept it)',
    )
  }
}
