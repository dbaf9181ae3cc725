/**
 * Every error this toolkit throws is an {@link OAuthM2MError} with a stable `code`.
 *
 * No error carries a client secret, a client assertion or an access token in its message or
 * properties: messages name what was wrong, never the credential itself.
 *
 * @module errors
 */

/** Options accepted by every error constructor. */
export interface OAuthM2MErrorOptions {
  /** The underlying error, when one exists. Never a value that holds a credential. */
  cause?: unknown
}

/**
 * Every `code` an oauth-m2m error can have, across all packages: a `switch` on
 * {@link OAuthM2MError.code} is checked by the compiler. A code never changes between releases.
 */
export type OAuthM2MErrorCode =
  // core
  | 'ERR_CONFIGURATION'
  | 'ERR_OAUTH_RESPONSE'
  | 'ERR_HTTP'
  | 'ERR_NETWORK'
  | 'ERR_TIMEOUT'
  | 'ERR_DISCOVERY'
  | 'ERR_INVALID_TOKEN'
  | 'ERR_INSUFFICIENT_SCOPE'
  | 'ERR_INVALID_REQUEST'
  | 'ERR_TEMPORARILY_UNAVAILABLE'
  | 'ERR_JWKS_NO_MATCHING_KEY'
  | 'ERR_JWKS_UNAVAILABLE'
  | 'ERR_INVALID_DPOP_PROOF'
  | 'ERR_USE_DPOP_NONCE'
  // @oauth-m2m/client
  | 'ERR_CLIENT_CLOSED'
  | 'ERR_RETRY_LATER'
  | 'ERR_TOKEN_UNAVAILABLE'
  | 'ERR_DPOP_NOT_BOUND'
  // @oauth-m2m/verifier
  | 'ERR_VERIFIER_CLOSED'
  // @oauth-m2m/testing
  | 'ERR_MSW_UNHANDLED_REQUEST'
  // shared stores (@oauth-m2m/redis)
  | 'ERR_STORE_UNAVAILABLE'

/** Base class of every error thrown by oauth-m2m. Switch on `code`, which never changes between releases. */
export class OAuthM2MError extends Error {
  /** Stable, machine-readable identifier of the failure, e.g. `ERR_TIMEOUT`. */
  readonly code: OAuthM2MErrorCode

  constructor(code: OAuthM2MErrorCode, message: string, options?: OAuthM2MErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.name = new.target.name
  }

  /** A plain object for logs: name, code, message and the subclass's own public fields. */
  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = { name: this.name, code: this.code, message: this.message }
    for (const [k, v] of Object.entries(this)) if (k !== 'cause') out[k] = v
    return out
  }
}

/** Options for {@link OAuthResponseError}. */
export interface OAuthResponseErrorInit extends OAuthM2MErrorOptions {
  /** The RFC 6749 §5.2 `error` code, e.g. `invalid_client`. */
  error: string
  /** The server's `error_description`, when given. */
  errorDescription?: string | undefined
  /** The server's `error_uri`, when given. */
  errorUri?: string | undefined
  /** HTTP status of the answer. */
  status: number
  /** Delay the server asked for with `Retry-After`, in milliseconds, when given. */
  retryAfterMs?: number | undefined
}

/** The authorization server answered with an RFC 6749 §5.2 error object. */
export class OAuthResponseError extends OAuthM2MError {
  /** The RFC 6749 §5.2 `error` code, e.g. `invalid_client`. */
  readonly error: string
  /** The server's `error_description`, when given. */
  readonly errorDescription: string | undefined
  /** The server's `error_uri`, when given. */
  readonly errorUri: string | undefined
  /** HTTP status of the answer. */
  readonly status: number
  /** Delay the server asked for with `Retry-After`, in milliseconds, when given. */
  readonly retryAfterMs: number | undefined

  constructor(init: OAuthResponseErrorInit) {
    const detail = init.errorDescription ? `: ${init.errorDescription}` : ''
    super('ERR_OAUTH_RESPONSE', `authorization server answered ${init.status} ${init.error}${detail}`, init)
    this.error = init.error
    this.errorDescription = init.errorDescription
    this.errorUri = init.errorUri
    this.status = init.status
    this.retryAfterMs = init.retryAfterMs
  }
}

/** Options for {@link HttpError}. */
export interface HttpErrorInit extends OAuthM2MErrorOptions {
  /** HTTP status, when a response arrived. */
  status?: number | undefined
  /** Delay the server asked for with `Retry-After`, in milliseconds, when given. */
  retryAfterMs?: number | undefined
}

/**
 * An HTTP exchange failed in a way that is not an OAuth error: an unexpected status, a body that is
 * not the JSON that was expected (HTML, truncated, wrong content type, too large), or a response
 * that breaks the protocol. The body itself is never copied into the error.
 */
export class HttpError extends OAuthM2MError {
  /** HTTP status, when a response arrived. */
  readonly status: number | undefined
  /** Delay the server asked for with `Retry-After`, in milliseconds, when given. */
  readonly retryAfterMs: number | undefined

  constructor(message: string, init: HttpErrorInit = {}) {
    super('ERR_HTTP', message, init)
    this.status = init.status
    this.retryAfterMs = init.retryAfterMs
  }
}

/** The connection failed before a response arrived (refused, reset, DNS, TLS). */
export class NetworkError extends OAuthM2MError {
  constructor(message: string, options?: OAuthM2MErrorOptions) {
    super('ERR_NETWORK', message, options)
  }
}

/** A request did not complete within its time limit. */
export class TimeoutError extends OAuthM2MError {
  /** The limit that was exceeded, in milliseconds. */
  readonly timeoutMs: number

  constructor(message: string, timeoutMs: number, options?: OAuthM2MErrorOptions) {
    super('ERR_TIMEOUT', message, options)
    this.timeoutMs = timeoutMs
  }
}

/** Authorization server metadata could not be fetched or is not valid (RFC 8414). */
export class DiscoveryError extends OAuthM2MError {
  constructor(message: string, options?: OAuthM2MErrorOptions) {
    super('ERR_DISCOVERY', message, options)
  }
}

/**
 * A shared store (Redis) did not answer: refused, closed, timed out, or answered with an error or
 * data it cannot use. The store call failed as a whole and changed nothing it reported; callers
 * answer "try again later" (the server: 503 `temporarily_unavailable`), never 500. The message
 * names the operation, never a key or a value; the driver's error is the `cause`.
 */
export class StoreUnavailableError extends OAuthM2MError {
  constructor(message: string, options?: OAuthM2MErrorOptions) {
    super('ERR_STORE_UNAVAILABLE', message, options)
  }
}

/** Options were invalid; thrown synchronously at construction time, never for request data. */
export class ConfigurationError extends OAuthM2MError {
  constructor(message: string, options?: OAuthM2MErrorOptions) {
    super('ERR_CONFIGURATION', message, options)
  }
}

/**
 * The RFC 6750 error codes a resource server answers with, plus `temporarily_unavailable` and the
 * RFC 9449 DPoP codes `invalid_dpop_proof` and `use_dpop_nonce`.
 */
export type BearerErrorCode =
  | 'invalid_request'
  | 'invalid_token'
  | 'insufficient_scope'
  | 'temporarily_unavailable'
  | 'invalid_dpop_proof'
  | 'use_dpop_nonce'

/**
 * Base of the errors a resource server turns into an HTTP answer (RFC 6750 §3.1). `status` and
 * `error` say what to send; `description` is safe to send to the caller.
 */
export abstract class BearerError extends OAuthM2MError {
  /** HTTP status to answer with. */
  abstract readonly status: number
  /** RFC 6750 error code for the `WWW-Authenticate` header. */
  abstract readonly error: BearerErrorCode
}

/** The access token is missing, malformed, expired, revoked or otherwise not acceptable (401). */
export class InvalidTokenError extends BearerError {
  readonly status = 401
  readonly error = 'invalid_token'
  constructor(message: string, options?: OAuthM2MErrorOptions) {
    super('ERR_INVALID_TOKEN', message, options)
  }
}

/** The token is valid but lacks scopes the request needs (403). */
export class InsufficientScopeError extends BearerError {
  readonly status = 403
  readonly error = 'insufficient_scope'
  /** The scopes the request needs, all of which must be granted. */
  readonly requiredScopes: readonly string[]
  constructor(requiredScopes: readonly string[], options?: OAuthM2MErrorOptions) {
    super('ERR_INSUFFICIENT_SCOPE', `the token lacks required scope: ${requiredScopes.join(' ')}`, options)
    this.requiredScopes = [...requiredScopes]
  }
}

/** The request itself is malformed: several credentials, a token in the query string (400). */
export class InvalidRequestError extends BearerError {
  readonly status = 400
  readonly error = 'invalid_request'
  constructor(message: string, options?: OAuthM2MErrorOptions) {
    super('ERR_INVALID_REQUEST', message, options)
  }
}

/**
 * The token could not be checked right now (JWKS or introspection endpoint unreachable and no
 * usable cached answer). Answered with 503, never 401: the token may well be valid.
 */
export class TemporarilyUnavailableError extends BearerError {
  readonly status = 503
  readonly error = 'temporarily_unavailable'
  constructor(message: string, options?: OAuthM2MErrorOptions) {
    super('ERR_TEMPORARILY_UNAVAILABLE', message, options)
  }
}

/** Base of the errors the JWKS cache throws. Switch on the subclass or its `code`. */
export abstract class JwksError extends OAuthM2MError {}

/**
 * The key set was fetched and is valid, but holds no key that matches the token's `kid` and
 * `alg` (or, without a `kid`, no single compatible key). A resource server answers
 * `invalid_token`: the token was not signed by a key this issuer publishes.
 */
export class JwksNoMatchingKeyError extends JwksError {
  constructor(message: string, options?: OAuthM2MErrorOptions) {
    super('ERR_JWKS_NO_MATCHING_KEY', message, options)
  }
}

/**
 * No usable key set: the JWKS endpoint failed (its error is the `cause`) and no earlier key set
 * may still be served. A resource server answers `temporarily_unavailable`: the token may be
 * valid.
 */
export class JwksUnavailableError extends JwksError {
  constructor(message: string, options?: OAuthM2MErrorOptions) {
    super('ERR_JWKS_UNAVAILABLE', message, options)
  }
}
