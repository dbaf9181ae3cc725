/**
 * `createVerifier`: wires options, key sources, caches and introspection into a {@link Verifier},
 * for one issuer's rules or several.
 *
 * @module create-verifier
 */
import { X509Certificate } from 'node:crypto'
import { BearerError, ConfigurationError, InsufficientScopeError, InvalidTokenError } from '@oauth-m2m/core'
import { normalizeHtu } from '@oauth-m2m/core/internal'
import { checkCertificateBinding } from './certificate-binding.js'
import { decodeJsonSegment, parseCompactJws } from './compact-jws.js'
import {
  type RejectionEvent,
  rejectionChannel,
  type VerificationEvent,
  verificationChannel,
} from './diagnostics.js'
import type { DpopMode } from './dpop-options.js'
import { createIssuerEntry, type IssuerEntry } from './issuer-entry.js'
import { hasScopes, renamedScopesOption, requireScopes } from './scopes.js'
import { hashToken } from './token-hash.js'
import { classifyToken } from './token-syntax.js'
import type { DpopPolicy, DpopRequest, Principal, Verifier, VerifyOptions } from './types.js'
import { VerifierClosedError } from './verifier-closed-error.js'
import { resolveVerifierOptions, type VerifierOptions } from './verifier-options.js'

/**
 * Why `verify()`'s per-call options are unusable, or `undefined` when they are fine. Checked on
 * every call because plain JavaScript callers get no help from the types, and a scope list that is
 * a string would otherwise fail deep inside as an unexplained TypeError.
 */
function invalidVerifyOptions(options: VerifyOptions): string | undefined {
  if (typeof options !== 'object' || options === null) return 'verify: options must be an object'
  if (options.dpop !== undefined) {
    const misuse = invalidDpopRequest(options.dpop)
    if (misuse !== undefined) return misuse
  }
  if (options.clientCertificate !== undefined && !(options.clientCertificate instanceof X509Certificate)) {
    return 'verify: options.clientCertificate must be an X509Certificate (node:crypto)'
  }
  const { requiredScopes } = options
  if (requiredScopes === undefined) return renamedScopesOption(options, 'verify')
  if (!Array.isArray(requiredScopes)) return 'verify: options.requiredScopes must be an array of strings'
  for (const scope of requiredScopes) {
    if (typeof scope !== 'string') return 'verify: options.requiredScopes must be an array of strings'
  }
  return renamedScopesOption(options, 'verify')
}

function invalidDpopRequest(dpop: DpopRequest): string | undefined {
  if (typeof dpop !== 'object' || dpop === null) return 'verify: options.dpop must be { proof, method, url }'
  if (dpop.proof !== undefined && typeof dpop.proof !== 'string')
    return 'verify: options.dpop.proof must be a string'
  if (typeof dpop.method !== 'string' || dpop.method === '')
    return 'verify: options.dpop.method must be the HTTP method'
  const url = dpop.url as unknown
  if ((typeof url !== 'string' && !(url instanceof URL)) || normalizeHtu(url) === undefined) {
    return 'verify: options.dpop.url must be the absolute http(s) URL of the request'
  }
  return undefined
}

/** The schemes a verifier of these entries accepts, for the middleware's challenges. */
function dpopPolicy(entries: readonly IssuerEntry[]): DpopPolicy {
  const bearer = entries.some((entry) => entry.dpop.mode !== 'required')
  const dpop = entries.some((entry) => entry.dpop.mode !== 'disabled')
  const mode: DpopMode = bearer && dpop ? 'allowed' : dpop ? 'required' : 'disabled'
  const algorithms = [
    ...new Set(entries.flatMap((entry) => (entry.dpop.mode === 'disabled' ? [] : entry.dpop.algorithms))),
  ]
  return Object.freeze({ mode, algorithms: Object.freeze(algorithms) })
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

/** Publishes the outcome of `result` on the verification channel, passing it through unchanged. */
function reportVerification(
  result: Promise<Principal>,
  startedAtMs: number,
  cached: boolean,
): Promise<Principal> {
  return result.then(
    (principal) => {
      verificationChannel.publish({
        outcome: 'success',
        source: principal.source,
        cached,
        durationMs: performance.now() - startedAtMs,
      } satisfies VerificationEvent)
      return principal
    },
    (err: unknown) => {
      const event: VerificationEvent = {
        outcome: 'failure',
        cached,
        durationMs: performance.now() - startedAtMs,
      }
      if (err instanceof BearerError) {
        event.code = err.code
        event.error = err.error
      }
      verificationChannel.publish(event)
      throw err
    },
  )
}

/** A principal and the entry whose rules verified it. */
interface Verified {
  entry: IssuerEntry
  principal: Principal
}

/** One entry per options object, refusing what would make a token's entry ambiguous. */
function createEntries(options: VerifierOptions | readonly VerifierOptions[]): IssuerEntry[] {
  if (!Array.isArray(options)) return [createIssuerEntry(resolveVerifierOptions(options as VerifierOptions))]
  if (options.length === 0) throw new ConfigurationError('createVerifier: the options array is empty')
  const configs = options.map((entry, index) => {
    try {
      return resolveVerifierOptions(entry)
    } catch (err) {
      if (!(err instanceof ConfigurationError)) throw err
      // Say which entry: "createVerifier: options[1]: audience …".
      const message = err.message.replace(/^createVerifier: /, '')
      throw new ConfigurationError(`createVerifier: options[${index}]: ${message}`, { cause: err })
    }
  })
  const owner = new Map<string, number>()
  configs.forEach((config, index) => {
    for (const issuer of config.issuers) {
      const other = owner.get(issuer)
      if (other !== undefined && other !== index) {
        throw new ConfigurationError(
          `createVerifier: options[${other}] and options[${index}] both name the issuer ${issuer}: a token's "iss" must pick one entry`,
        )
      }
      owner.set(issuer, index)
    }
  })
  // Opaque tokens carry no `iss`, so nothing could say whose introspection endpoint to ask.
  if (configs.filter((config) => config.introspection !== undefined).length > 1) {
    throw new ConfigurationError('createVerifier: introspection may be set on at most one entry of the array')
  }
  return configs.map(createIssuerEntry)
}

/**
 * Creates a verifier for one resource server.
 *
 * ```ts
 * const verifier = createVerifier({ issuer: 'https://as.example.com', audience: 'https://api.example.com' })
 * const principal = await verifier.verify(token, { requiredScopes: ['read:things'] })
 * ```
 *
 * Several issuers with their own rules (keys, audience, claim names, `check`, `typ`,
 * algorithms, caches) take an array: `createVerifier([optionsA, optionsB])`. In an array of any
 * length, one entry included, a JWT's `iss`, read before any key is fetched, picks the entry that
 * names it; a token of any other issuer is
 * refused with `InvalidTokenError`, without any network traffic. An issuer named by two entries
 * is a `ConfigurationError`, and so is `introspection` on more than one entry (opaque tokens,
 * which carry no `iss`, go to the one that has it). `close()` closes every entry.
 *
 * Nothing is fetched until the first verification: discovery, the JWKS and the introspection
 * endpoint are looked up lazily. A failure there is not retried by every call: discovery is asked
 * again after `discoveryFailureCooldownMs`, the JWKS after `jwksCache.cooldownMs`, introspection
 * after `introspection.failureCooldownMs`; meanwhile calls that need them fail fast with
 * `TemporarilyUnavailableError` (503).
 *
 * @throws {ConfigurationError} for invalid options.
 */
export function createVerifier(options: VerifierOptions | readonly VerifierOptions[]): Verifier {
  const entries = createEntries(options)
  // Only a lone options object skips reading `iss` first: an array, even of one entry, always
  // picks by `iss`, so a token of an unknown issuer is refused before that entry fetches keys.
  const single = Array.isArray(options) ? undefined : entries[0]
  const byIssuer = new Map(
    entries.flatMap((entry) => entry.issuers.map((issuer) => [issuer, entry] as const)),
  )
  const introspecting = entries.find((entry) => entry.introspects)
  const caching = entries.filter((entry) => entry.tokenCache !== undefined)
  const maxTokenLength = Math.max(...entries.map((entry) => entry.maxTokenLength))
  const maxCachedLength = Math.max(0, ...caching.map((entry) => entry.maxTokenLength))
  let closed = false
  /** The principal `cachedEntry` found, handed over synchronously. */
  let hit: Principal | undefined

  /** The cache key of a token some entry's verified-token cache may hold, or `undefined`. */
  function cacheKey(token: string): string | undefined {
    if (closed || caching.length === 0 || typeof token !== 'string' || token.length > maxCachedLength)
      return undefined
    return hashToken(token)
  }

  /**
   * The entry whose cache holds a principal for this token, which it leaves in `hit` (no object
   * per call on the hot path). Each entry caches only the tokens it verified, and a token's `iss`
   * always picks the same entry, so a hit is a verdict of the entry's own rules.
   */
  function cachedEntry(tokenHash: string): IssuerEntry | undefined {
    for (const entry of caching) {
      const principal = entry.tokenCache!.get(tokenHash, entry.now())
      if (principal !== undefined) {
        hit = principal
        return entry
      }
    }
    return undefined
  }

  /** The entry whose rules judge a JWT: the one naming its (unverified) `iss`. */
  function entryOf(jwsPayload: string): { entry: IssuerEntry; claims?: Record<string, unknown> } {
    if (single) return { entry: single }
    const claims = decodeJsonSegment(jwsPayload, 'claims')
    const iss = claims.iss
    const entry = typeof iss === 'string' ? byIssuer.get(iss) : undefined
    if (entry === undefined) {
      throw new InvalidTokenError(
        iss === undefined ? 'the token has no "iss" claim' : 'the token was issued by an unexpected issuer',
      )
    }
    return { entry, claims }
  }

  async function check(
    token: string,
    tokenHash: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<Verified> {
    if (closed) throw new VerifierClosedError()
    const kind = classifyToken(token, maxTokenLength)
    if (kind === 'jwt') {
      const jws = parseCompactJws(token)
      const { entry, claims } = entryOf(jws.encodedPayload)
      if (entry.maxTokenLength < maxTokenLength) classifyToken(token, entry.maxTokenLength)
      const principal = await entry.verifyJwt(jws, token, tokenHash, signal, claims)
      if (entry.tokenCache && tokenHash !== undefined && principal.source === 'jwt') {
        entry.tokenCache.set(tokenHash, principal, entry.now())
      }
      return { entry, principal }
    }
    if (!introspecting) {
      throw new InvalidTokenError('the token is not a JWT and no introspection endpoint is configured')
    }
    if (introspecting.maxTokenLength < maxTokenLength) classifyToken(token, introspecting.maxTokenLength)
    return { entry: introspecting, principal: await introspecting.introspect(token, tokenHash, signal) }
  }

  async function checkAndAuthorize(
    token: string,
    tokenHash: string | undefined,
    options: VerifyOptions,
  ): Promise<Principal> {
    try {
      const { entry, principal } = await check(token, tokenHash, options.signal)
      // How the token was sent is judged after the token itself, so a proof is only ever
      // recorded as used for a token that is valid here; the certificate first, as it records nothing.
      checkCertificateBinding(principal, options.clientCertificate)
      // Awaited only when the replay store is asynchronous: no extra tick for a bearer token.
      const pending = entry.checkBinding(principal, token, options.dpop)
      if (pending !== undefined) await pending
      requireScopes(principal, options.requiredScopes)
      return principal
    } catch (err) {
      publishRejection(err)
      throw err
    }
  }

  /** The cache-hit path: the binding and scopes of a principal verified before. */
  function authorizeCached(
    entry: IssuerEntry,
    principal: Principal,
    token: string,
    options: VerifyOptions,
  ): Promise<Principal> {
    let pending: Promise<void> | undefined
    try {
      checkCertificateBinding(principal, options.clientCertificate)
      pending = entry.checkBinding(principal, token, options.dpop)
    } catch (err) {
      publishRejection(err)
      return Promise.reject(err)
    }
    if (pending === undefined) return withScopes(principal, options)
    return pending.then(
      () => withScopes(principal, options),
      (err: unknown) => {
        publishRejection(err)
        throw err
      },
    )
  }

  function withScopes(principal: Principal, options: VerifyOptions): Promise<Principal> {
    if (hasScopes(principal, options.requiredScopes)) return Promise.resolve(principal)
    const err = new InsufficientScopeError(options.requiredScopes!)
    publishRejection(err)
    return Promise.reject(err)
  }

  return {
    // Not async: a cache hit, the hot path, costs a hash and a lookup and enters no async function.
    verify(token: string, options: VerifyOptions = {}): Promise<Principal> {
      const misuse = invalidVerifyOptions(options)
      if (misuse !== undefined) return Promise.reject(new ConfigurationError(misuse))
      // Timed only while someone listens: otherwise the hot path gains nothing, not even a clock read.
      const startedAtMs = verificationChannel.hasSubscribers ? performance.now() : -1
      const tokenHash = cacheKey(token)
      const entry = tokenHash === undefined ? undefined : cachedEntry(tokenHash)
      if (entry === undefined) {
        const result = checkAndAuthorize(token, tokenHash, options)
        return startedAtMs < 0 ? result : reportVerification(result, startedAtMs, false)
      }
      const principal = hit!
      hit = undefined
      const result = authorizeCached(entry, principal, token, options)
      return startedAtMs < 0 ? result : reportVerification(result, startedAtMs, true)
    },
    dpop: dpopPolicy(entries),
    async close(): Promise<void> {
      closed = true
      for (const entry of entries) entry.close()
    },
  }
}
