/**
 * The errors of DPoP proof checking (RFC 9449 §7.1 at a resource server, §5 at a token endpoint).
 *
 * @module dpop/dpop-errors
 */
import { BearerError, type OAuthM2MErrorOptions } from '../errors.js'

/** Options of {@link InvalidDpopProofError}. */
export interface InvalidDpopProofErrorOptions extends OAuthM2MErrorOptions {
  /**
   * HTTP status to answer with. Default 401, a resource server's answer (RFC 9449 §7.1); 400 for a
   * malformed request (several `DPoP` headers) and at a token endpoint (§5).
   */
  status?: 400 | 401
}

/**
 * The `DPoP` proof is missing, malformed, forged, stale, replayed, for another request or signed
 * by a key other than the one the access token is bound to: error `invalid_dpop_proof`
 * (RFC 9449 §7.1). The message says which rule was broken and never quotes the proof.
 */
export class InvalidDpopProofError extends BearerError {
  readonly status: 400 | 401
  readonly error = 'invalid_dpop_proof'
  constructor(message: string, options?: InvalidDpopProofErrorOptions) {
    super('ERR_INVALID_DPOP_PROOF', message, options)
    this.status = options?.status ?? 401
  }
}

/** Options of {@link UseDpopNonceError}. */
export interface UseDpopNonceErrorOptions extends OAuthM2MErrorOptions {
  /** The nonce the client must put in its next proof, sent as the `DPoP-Nonce` header. */
  nonce?: string | undefined
  /** HTTP status to answer with. Default 401 (resource server, RFC 9449 §9); 400 at a token endpoint (§8). */
  status?: 400 | 401
}

/**
 * The proof carries no `nonce`, or one this server no longer accepts: error `use_dpop_nonce`
 * (RFC 9449 §8, §9). The answer carries a fresh nonce in `DPoP-Nonce`; the client retries with it.
 */
export class UseDpopNonceError extends BearerError {
  readonly status: 400 | 401
  readonly error = 'use_dpop_nonce'
  /** The nonce to send in `DPoP-Nonce`, when the thrower knows one. Not a secret: any client may get it. */
  readonly nonce: string | undefined
  constructor(message: string, options?: UseDpopNonceErrorOptions) {
    super('ERR_USE_DPOP_NONCE', message, options)
    this.status = options?.status ?? 401
    this.nonce = options?.nonce
  }
}
