/**
 * The shapes every entry point of the verifier shares: what `verify()` returns and accepts.
 *
 * @module types
 */

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
}

/** Checks access tokens for one resource server. Create with `createVerifier()`. */
export interface Verifier {
  /**
   * Verifies `token` and returns its {@link Principal}.
   *
   * @throws {InvalidTokenError} the token is malformed, forged, expired, revoked or not for this
   *   resource server (answer 401).
   * @throws {InsufficientScopeError} the token is valid but lacks a scope in `options.requiredScopes` (403).
   * @throws {TemporarilyUnavailableError} keys or the introspection endpoint are unreachable, so
   *   the token cannot be judged right now (503).
   * @throws {VerifierClosedError} the verifier was closed (answered like
   *   `TemporarilyUnavailableError`, 503).
   * @throws {ConfigurationError} `options` is not an object, `options.requiredScopes` is not an
   *   array of strings, or `options` uses the former name `scopes`: a mistake in the calling code,
   *   not in the token.
   */
  verify(token: string, options?: VerifyOptions): Promise<Principal>
  /**
   * Releases caches and timers. Every later `verify()`, and every lookup still in flight, rejects
   * with `VerifierClosedError`.
   */
  close(): Promise<void>
}
