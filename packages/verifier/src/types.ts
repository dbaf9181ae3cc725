/**
 * The shapes every entry point of the verifier shares: what `verify()` returns and accepts.
 *
 * @module types
 */
import type { X509Certificate } from 'node:crypto'
import type { DpopSigningAlg } from '@oauth-m2m/core/internal'
import type { DpopMode } from './dpop-options.js'

/**
 * The key a token is bound to (RFC 7800 `cnf`), as far as this verifier checks it: present on a
 * {@link Principal} only for a sender-constrained token, whose proof of possession passed. A token
 * may be bound both ways; then both were checked.
 */
export interface Confirmation {
  /**
   * RFC 9449 §6: the RFC 7638 SHA-256 thumbprint (base64url) of the DPoP key the token is bound
   * to. The request's DPoP proof was signed by this key.
   */
  jkt?: string
  /**
   * RFC 8705 §3.1: the SHA-256 thumbprint (base64url) of the DER client certificate the token is
   * bound to. The request came with this certificate (mutual TLS, or a trusted proxy's RFC 9440
   * `Client-Cert` header).
   */
  'x5t#S256'?: string
}

/** Who called: the outcome of a successful verification, whichever way the token was checked. */
export interface Principal {
  /**
   * The OAuth client the token was issued to: `client_id`, or the first claim of
   * `claims.clientId` the token has.
   */
  clientId: string
  /** The token's `sub`, when present. For client-credentials tokens it usually equals `clientId`. */
  subject: string | undefined
  /**
   * Granted scopes: the space-separated `scope` claim, or everything the claims of
   * `claims.scopes` grant, merged; empty when none.
   */
  scopes: string[]
  /** Every audience the token names (`aud`, always as a list). */
  audience: string[]
  /** The issuer that vouched for the token (`iss`). */
  issuer: string
  /**
   * When the token expires, epoch milliseconds. `Infinity` only for an introspection answer without
   * `exp` (RFC 7662 makes it optional); such an answer is still reused for at most `maxTtlMs`.
   */
  expiresAt: number
  /** The token's `jti`, when present. */
  jti: string | undefined
  /** All claims of the token, or all members of the introspection answer. */
  claims: Record<string, unknown>
  /** How the token was checked: a local JWT signature check or an RFC 7662 introspection call. */
  source: 'jwt' | 'introspection'
  /**
   * The key the token is bound to, from its `cnf` claim (or the introspection answer's `cnf`):
   * set only for DPoP-bound tokens (`cnf.jkt`), which `verify()` accepts only with a valid proof
   * by that key, and certificate-bound tokens (`cnf["x5t#S256"]`), which it accepts only with
   * that client certificate. Absent for bearer tokens.
   */
  confirmation?: Confirmation
}

/**
 * What `verify()` needs to check a DPoP-bound token (RFC 9449 §7): the request came with
 * `Authorization: DPoP <token>` and this proof. The middleware fills it in from the request.
 */
export interface DpopRequest {
  /** The `DPoP` header value; `undefined` when the request had none (then `invalid_dpop_proof`). */
  proof: string | undefined
  /** The request's method, compared with the proof's `htm`. */
  method: string
  /**
   * The URL the client sent the request to (behind a proxy: the public one), compared with the
   * proof's `htu` without query and fragment.
   */
  url: string | URL
}

/** Which schemes a verifier accepts, for the challenges the middleware sends (RFC 9449 §7.1). */
export interface DpopPolicy {
  /** The combined mode of the verifier's entries: `allowed` when both schemes are accepted. */
  readonly mode: DpopMode
  /** The proof algorithms accepted, for the challenge's `algs`. */
  readonly algorithms: readonly DpopSigningAlg[]
}

/** Per-call options of {@link Verifier.verify}. */
export interface VerifyOptions {
  /**
   * Scopes the request needs; every one must be granted (be in `principal.scopes`), else
   * `InsufficientScopeError`. Default: none. (Formerly `scopes`, which is now refused with a
   * `ConfigurationError`.)
   */
  requiredScopes?: readonly string[]
  /** Cancels a network lookup (JWKS, introspection) this call would wait for. */
  signal?: AbortSignal
  /**
   * The request used the `DPoP` scheme (RFC 9449 §7.1): the token must be DPoP-bound and the
   * proof valid for this request and the token's key. Leave out for the `Bearer` scheme: a
   * DPoP-bound token is then refused (§7.2). Default: `Bearer`.
   */
  dpop?: DpopRequest
  /**
   * The client certificate the request came with (RFC 8705 §3): the TLS peer's
   * (`socket.getPeerX509Certificate()`), or the one a trusted TLS-terminating proxy forwarded
   * (RFC 9440 `Client-Cert`; the middleware's `trustedProxy`). A token bound to
   * a certificate (`cnf["x5t#S256"]`) is accepted only when this is that certificate; tokens that
   * are not certificate-bound ignore it. Default: none (a certificate-bound token is refused).
   */
  clientCertificate?: X509Certificate
}

/** Checks access tokens for one resource server. Create with `createVerifier()`. */
export interface Verifier {
  /**
   * Verifies `token` and returns its {@link Principal}.
   *
   * @throws {InvalidTokenError} the token is malformed, forged, expired, revoked or not for this
   *   resource server, or bound to a client certificate that `options.clientCertificate` is not
   *   (answer 401).
   * @throws {InvalidDpopProofError} `options.dpop` is given and its proof is missing, malformed,
   *   forged, stale, replayed, for another request or not by the token's key (401).
   * @throws {UseDpopNonceError} resource-server nonces are on and the proof lacks a current one;
   *   its `nonce` is the one to send in `DPoP-Nonce` (401).
   * @throws {InsufficientScopeError} the token is valid but lacks a scope in `options.requiredScopes` (403).
   * @throws {TemporarilyUnavailableError} keys or the introspection endpoint are unreachable, so
   *   the token cannot be judged right now (503).
   * @throws {VerifierClosedError} the verifier was closed (answered like
   *   `TemporarilyUnavailableError`, 503).
   * @throws {ConfigurationError} `options` is not an object, `options.requiredScopes` is not an
   *   array of strings, `options.clientCertificate` is not an `X509Certificate`, `options.dpop`
   *   lacks a method or an absolute http(s) URL, or `options` uses the former name `scopes`: a
   *   mistake in the calling code, not in the token.
   */
  verify(token: string, options?: VerifyOptions): Promise<Principal>
  /**
   * The DPoP schemes and algorithms this verifier accepts, read by the middleware for its
   * challenges. A `Verifier` without it (a hand-written one) is treated as `disabled`: Bearer only.
   */
  readonly dpop?: DpopPolicy
  /**
   * Releases caches and timers. Every later `verify()`, and every lookup still in flight, rejects
   * with `VerifierClosedError`.
   */
  close(): Promise<void>
}
