/**
 * `createVerifier`: wires options, key sources, caches and introspection into a {@link Verifier}.
 *
 * @module create-verifier
 */
import {
  BearerError,
  ConfigurationError,
  InsufficientScopeError,
  InvalidTokenError,
  JwksCache,
} from '@oauth-m2m/core'
import type { ClaimRules } from './access-token-claims.js'
import { runApplicationCheck } from './application-check.js'
import { type RejectionEvent, rejectionChannel } from './diagnostics.js'
import { Introspector } from './introspection.js'
import { IssuerKeys } from './issuer-keys.js'
import { IssuerMetadata } from './issuer-metadata.js'
import { type JwtPolicy, verifyJwt } from './jwt-verification.js'
import { hasScopes, renamedScopesOption, requireScopes } from './scopes.js'
import { hashToken } from './token-hash.js'
import { classifyToken } from './token-syntax.js'
import type { Principal, Verifier, VerifyOptions } from './types.js'
import { VerifiedTokenCache } from './verified-token-cache.js'
import { VerifierClosedError } from './verifier-closed-error.js'
import { resolveVerifierOptions, type VerifierOptions } from './verifier-options.js'

// Reads the global Date on each call, not once, so that whoever replaces it (a test's fake timers)
// is seen.
const wallClock = (): number => Date.now()

/**
 * Why `verify()`'s per-call options are unusable, or `undefined` when they are fine. Checked on
 * every call because plain JavaScript callers get no help from the types, and a scope list that is
 * a string would otherwise fail deep inside as an unexplained TypeError.
 */
function invalidVerifyOptions(options: VerifyOptions): string | undefined {
  if (typeof options !== 'object' || options === null) return 'verify: options must be an object'
  const { requiredScopes } = options
  if (requiredScopes === undefined) return renamedScopesOption(options, 'verify')
  if (!Array.isArray(requiredScopes)) return 'verify: options.requiredScopes must be an array of strings'
  for (const scope of requiredScopes) {
    if (typeof scope !== 'string') return 'verify: options.requiredScopes must be an array of strings'
  }
  return renamedScopesOption(options, 'verify')
}

function publishRejection(err: unknown): void {
  if (err instanceof BearerError && rejectionChannel.hasSubscribers) {
    rejectionChannel.publish({
      code: err.code,
      error: err.error,
      message: err.message,
    } satisfies RejectionEvent)
  }
}

/**
 * Creates a verifier for one resource server.
 *
 * ```ts
 * const verifier = createVerifier({ issuer: 'https://as.example.com', audience: 'https://api.example.com' })
 * const principal = await verifier.verify(token, { requiredScopes: ['read:things'] })
 * ```
 *
 * Nothing is fetched until the first verification: discovery, the JWKS and the introspection
 * endpoint are looked up lazily. A failure there is not retried by every call: discovery is asked
 * again after `discoveryFailureCooldownMs`, the JWKS after `jwks.cooldownMs`, introspection after
 * `introspection.failureCooldownMs`; meanwhile calls that need them fail fast with
 * `TemporarilyUnavailableError` (503).
 *
 * @throws {ConfigurationError} for invalid options.
 */
export function createVerifier(options: VerifierOptions): Verifier {
  const config = resolveVerifierOptions(options)
  const now = config.now ?? wallClock
  const firstIssuer = config.issuers[0]!
  const metadataByIssuer = new Map(
    config.issuers.map((issuer) => [
      issuer,
      new IssuerMetadata(issuer, {
        dispatcher: config.dispatcher,
        timeoutMs: config.timeoutMs,
        failureCooldownMs: config.discoveryFailureCooldownMs,
        now,
      }),
    ]),
  )
  const sharedJwks = config.jwksUri === undefined ? undefined : new JwksCache(config.jwksUri, config.jwks)
  const keysByIssuer = new Map(
    [...metadataByIssuer].map(([issuer, metadata]) => [
      issuer,
      new IssuerKeys(metadata, { jwks: sharedJwks, jwksOptions: config.jwks, algorithms: config.algorithms }),
    ]),
  )
  const rules: ClaimRules = {
    issuers: config.issuers,
    audiences: config.audiences,
    clientIds: config.clientIds,
    clockToleranceSec: config.clockToleranceSec,
    requiredClaims: config.requiredClaims,
    clientIdClaims: config.clientIdClaims,
    scopeClaims: config.scopeClaims,
  }
  const jwtPolicy: JwtPolicy = {
    keysByIssuer,
    sharedKeys:
      sharedJwks !== undefined || config.issuers.length === 1 ? keysByIssuer.get(firstIssuer) : undefined,
    rules,
    typ: config.typ,
    now,
  }
  const introspector =
    config.introspection &&
    new Introspector({
      ...config.introspection,
      timeoutMs: config.timeoutMs,
      dispatcher: config.dispatcher,
      rules,
      check: config.check,
      metadata: metadataByIssuer.get(firstIssuer)!,
      now: config.now,
    })
  const introspectJwts = config.introspection?.mode === 'all'
  // JWTs that are introspected too must not outlive the introspection cache bound here.
  const tokenCache =
    config.tokenCache && !introspectJwts
      ? new VerifiedTokenCache(config.tokenCache, config.clockToleranceSec)
      : undefined
  let closed = false

  /** The cache key of a token the verified-token cache may hold, or `undefined` when it cannot. */
  function cacheKey(token: string): string | undefined {
    if (!tokenCache || closed || typeof token !== 'string' || token.length > config.maxTokenLength)
      return undefined
    return hashToken(token)
  }

  async function check(token: string, tokenHash: string | undefined, signal: AbortSignal | undefined) {
    if (closed) throw new VerifierClosedError()
    const principal = await checkUncached(token, tokenHash, signal)
    if (tokenCache && tokenHash !== undefined && principal.source === 'jwt') {
      tokenCache.set(tokenHash, principal, now())
    }
    return principal
  }

  async function checkUncached(
    token: string,
    tokenHash: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<Principal> {
    const kind = classifyToken(token, config.maxTokenLength)
    if (kind === 'jwt') {
      const principal = await verifyJwt(token, jwtPolicy, signal)
      if (!introspectJwts || !introspector) {
        if (config.check) await runApplicationCheck(config.check, principal)
        return principal
      }
      // The principal comes from the introspection answer, which the introspector checks.
      return introspector.introspect(token, tokenHash ?? hashToken(token), signal)
    }
    if (!introspector) {
      throw new InvalidTokenError('the token is not a JWT and no introspection endpoint is configured')
    }
    return introspector.introspect(token, tokenHash ?? hashToken(token), signal)
  }

  async function checkAndAuthorize(
    token: string,
    tokenHash: string | undefined,
    options: VerifyOptions,
  ): Promise<Principal> {
    try {
      const principal = await check(token, tokenHash, options.signal)
      requireScopes(principal, options.requiredScopes)
      return principal
    } catch (err) {
      publishRejection(err)
      throw err
    }
  }

  return {
    // Not async: a cache hit, the hot path, costs a hash and a lookup and enters no async function.
    verify(token: string, options: VerifyOptions = {}): Promise<Principal> {
      const misuse = invalidVerifyOptions(options)
      if (misuse !== undefined) return Promise.reject(new ConfigurationError(misuse))
      const tokenHash = cacheKey(token)
      const cached = tokenHash === undefined ? undefined : tokenCache!.get(tokenHash, now())
      if (cached === undefined) return checkAndAuthorize(token, tokenHash, options)
      if (hasScopes(cached, options.requiredScopes)) return Promise.resolve(cached)
      const err = new InsufficientScopeError(options.requiredScopes!)
      publishRejection(err)
      return Promise.reject(err)
    },
    async close(): Promise<void> {
      closed = true
      tokenCache?.clear()
      introspector?.close()
    },
  }
}
