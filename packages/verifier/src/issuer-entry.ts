/**
 * Everything one `VerifierOptions` object sets up: its issuers' metadata and keys, its claim rules,
 * its verified-token cache and its introspection. `createVerifier([a, b])` holds one entry per
 * options object, and a token is only ever judged, and cached, by the entry its `iss` picks.
 *
 * @module issuer-entry
 */
import { InvalidTokenError, JwksCache } from '@oauth-m2m/core'
import { deepFreeze } from '@oauth-m2m/core/internal'
import type { ClaimRules } from './access-token-claims.js'
import { runApplicationCheck } from './application-check.js'
import type { CompactJws } from './compact-jws.js'
import { checkDpopBinding } from './dpop-binding.js'
import type { DpopSettings } from './dpop-options.js'
import type { Introspector } from './introspection.js'
import { IssuerKeys } from './issuer-keys.js'
import { IssuerMetadata } from './issuer-metadata.js'
import { type JwtPolicy, verifyJwt } from './jwt-verification.js'
import { StaticKeySet } from './static-key-set.js'
import { hashToken } from './token-hash.js'
import type { DpopRequest, Principal } from './types.js'
import { VerifiedTokenCache } from './verified-token-cache.js'
import { VerifierClosedError } from './verifier-closed-error.js'
import type { ResolvedVerifierOptions } from './verifier-options.js'

// Reads the global Date on each call, not once, so that whoever replaces it (a test's fake timers)
// is seen.
const wallClock = (): number => Date.now()

/** The verification set up from one options object. */
export interface IssuerEntry {
  /** The `iss` values that pick this entry. */
  readonly issuers: readonly string[]
  readonly maxTokenLength: number
  /** The clock of this entry's decisions, in epoch milliseconds. */
  readonly now: () => number
  /** Verified JWTs of this entry; `undefined` when off (or when every JWT is introspected). */
  readonly tokenCache: VerifiedTokenCache | undefined
  /** Whether opaque tokens can be checked here. */
  readonly introspects: boolean
  /** How this entry's tokens may be sent (DPoP or Bearer). */
  readonly dpop: DpopSettings
  /**
   * Checks that `principal`'s token, verified by this entry, was sent the way its binding demands
   * (RFC 9449 §7); synchronous unless the replay store is not.
   */
  checkBinding(
    principal: Principal,
    token: string,
    request: DpopRequest | undefined,
  ): undefined | Promise<void>
  /**
   * Checks a JWT of this entry: signature and claims, introspection with `mode: 'all'`, then the
   * application's check. `claims` is the payload when the caller already decoded it.
   */
  verifyJwt(
    jws: CompactJws,
    token: string,
    tokenHash: string | undefined,
    signal: AbortSignal | undefined,
    claims?: Record<string, unknown>,
  ): Promise<Principal>
  /** Checks an opaque token by introspection; only when {@link IssuerEntry.introspects}. */
  introspect(
    token: string,
    tokenHash: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<Principal>
  close(): void
}

/**
 * The introspection answer's principal for a JWT checked both ways (`mode: 'all'`), keeping the
 * key binding the signed JWT carries: an answer that leaves `cnf` out must not turn a DPoP- or
 * certificate-bound token into a bearer token, and one that names another key is refused.
 */
function withJwtBinding(fromJwt: Principal, fromAnswer: Principal): Principal {
  const bound = fromJwt.confirmation
  if (bound === undefined) return fromAnswer
  const answered = fromAnswer.confirmation
  if (answered === undefined) return deepFreeze({ ...fromAnswer, confirmation: bound })
  if (answered.jkt !== bound.jkt || answered['x5t#S256'] !== bound['x5t#S256']) {
    throw new InvalidTokenError('the token is bound to another key than its introspection answer says')
  }
  return fromAnswer
}

/** Sets up the entry of one checked options object. Nothing is fetched yet. */
export function createIssuerEntry(config: ResolvedVerifierOptions): IssuerEntry {
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
        allowInsecureHttp: config.allowInsecureHttp,
      }),
    ]),
  )
  const sharedJwks =
    config.staticKeys !== undefined
      ? new StaticKeySet(config.staticKeys)
      : config.jwksUri !== undefined
        ? new JwksCache(config.jwksUri, config.jwksCache)
        : undefined
  const keysByIssuer = new Map(
    [...metadataByIssuer].map(([issuer, metadata]) => [
      issuer,
      new IssuerKeys(metadata, {
        jwks: sharedJwks,
        jwksOptions: config.jwksCache,
        algorithms: config.algorithms,
      }),
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
  const introspection = config.introspection
  // Made with the first token introspected: its module (and the call path) is loaded then, so that
  // a verifier of JWTs only never loads it.
  let introspector: Promise<Introspector> | undefined
  let closed = false
  const introspectJwts = config.introspection?.mode === 'all'
  const check = config.check
  // JWTs that are introspected too must not outlive the introspection cache bound here.
  const tokenCache =
    config.tokenCache && !introspectJwts
      ? new VerifiedTokenCache(config.tokenCache, config.clockToleranceSec)
      : undefined

  async function introspect(token: string, tokenHash: string | undefined, signal: AbortSignal | undefined) {
    if (!introspection) {
      throw new InvalidTokenError('the token is not a JWT and no introspection endpoint is configured')
    }
    introspector ??= import('./introspection.js').then(
      ({ Introspector }) =>
        new Introspector({
          ...introspection,
          timeoutMs: config.timeoutMs,
          dispatcher: config.dispatcher,
          rules,
          check: config.check,
          metadata: metadataByIssuer.get(firstIssuer)!,
          now: config.now,
        }),
    )
    const loaded = await introspector
    if (closed) throw new VerifierClosedError()
    return loaded.introspect(token, tokenHash ?? hashToken(token), signal)
  }

  return {
    issuers: config.issuers,
    maxTokenLength: config.maxTokenLength,
    now,
    tokenCache,
    introspects: introspection !== undefined,
    dpop: config.dpop,
    checkBinding(principal, token, request) {
      // The common case, an unbound token sent as a bearer token where that is allowed, costs no call.
      if (request === undefined && principal.confirmation === undefined && config.dpop.mode !== 'required') {
        return undefined
      }
      return checkDpopBinding(config.dpop, principal, token, request, now)
    },
    async verifyJwt(jws, token, tokenHash, signal, claims) {
      const principal = await verifyJwt(jws, jwtPolicy, signal, claims)
      // With `mode: 'all'` the principal comes from the introspection answer, which the
      // introspector checks (once per cached answer).
      if (introspectJwts) return withJwtBinding(principal, await introspect(token, tokenHash, signal))
      if (check) await runApplicationCheck(check, principal)
      return principal
    },
    async introspect(token, tokenHash, signal) {
      return introspect(token, tokenHash, signal)
    },
    close() {
      closed = true
      tokenCache?.clear()
      // A failed load has nothing to close (its callers got the failure).
      introspector?.then(
        (loaded) => loaded.close(),
        () => {},
      )
    },
  }
}
