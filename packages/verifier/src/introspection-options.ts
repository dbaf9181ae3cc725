/**
 * The `introspection` option of `createVerifier`: its shape, defaults and validation. Apart from
 * the introspector itself, which is loaded with the first token introspected.
 *
 * @module introspection-options
 */
import type { ClientAuthStrategy } from '@oauth-m2m/core'
import type { IntrospectionCache } from './introspection-cache.js'
import { invalid, nonNegativeMs, positive, url } from './option-checks.js'

/** Options of introspection (`createVerifier({ introspection })`). */
export interface IntrospectionOptions {
  /** The introspection endpoint. Default: `introspection_endpoint` from the (first) issuer's metadata. */
  endpoint?: string | URL
  /** This resource server's client id at the authorization server. */
  clientId: string
  /** How this resource server authenticates, e.g. `clientSecretBasic(secret)` from `@oauth-m2m/core`. */
  auth: ClientAuthStrategy
  /**
   * Which tokens are introspected.
   * - `opaque` (default): tokens that are not JWTs; JWTs are verified locally only.
   * - `all`: JWTs too, after they pass the local check, so that a revoked JWT is refused within
   *   `maxTtlMs`. The principal then comes from the introspection answer.
   */
  mode?: 'opaque' | 'all'
  /** Longest time an active answer is reused, in milliseconds (never past the token's `exp`). Default 60 000. */
  maxTtlMs?: number
  /** How long a negative answer (inactive, or not acceptable here) is reused, in milliseconds. Default 5 000. */
  inactiveTtlMs?: number
  /** Most answers cached; the least recently used is dropped first. Default 10 000. */
  maxEntries?: number
  /**
   * After a failed call (unreachable, timeout, an answer other than a well-formed 200, or failed
   * discovery of the endpoint), how long further lookups of uncached tokens fail at once with
   * `TemporarilyUnavailableError` instead of each calling the endpoint, in milliseconds. Then one
   * call is let through (lookups arriving meanwhile wait for it) and its success ends the cooldown.
   * Cached answers are served throughout. 0 disables: every uncached lookup calls. Default 2 000.
   */
  failureCooldownMs?: number
  /**
   * Answers shared with the other instances of this API (e.g. `redisIntrospectionCache` of
   * `@oauth-m2m/redis`), asked when this verifier's memory has no answer and written after each
   * call; a cached answer is reused only for what is left of `maxTtlMs` (or `inactiveTtlMs`) since
   * it was fetched. A failing cache is bypassed. Default: none (memory only).
   */
  cache?: IntrospectionCache
}

/** Default of {@link IntrospectionOptions.maxTtlMs}. */
export const DEFAULT_INTROSPECTION_MAX_TTL_MS = 60_000
/** Default of {@link IntrospectionOptions.inactiveTtlMs}. */
export const DEFAULT_INTROSPECTION_INACTIVE_TTL_MS = 5_000
/** Default of {@link IntrospectionOptions.maxEntries}. */
export const DEFAULT_INTROSPECTION_MAX_ENTRIES = 10_000
/** Default of {@link IntrospectionOptions.failureCooldownMs}. */
export const DEFAULT_INTROSPECTION_FAILURE_COOLDOWN_MS = 2_000

/** The introspection option, checked, with defaults filled in. */
export type ResolvedIntrospectionOptions = Required<Omit<IntrospectionOptions, 'endpoint' | 'cache'>> & {
  endpoint: string | undefined
  cache: IntrospectionCache | undefined
}

/**
 * Checks `introspection` and fills in its defaults; `undefined` when not given.
 * `allowInsecureHttp`: whether the endpoint may be http to a host other than loopback.
 */
export function resolveIntrospectionOptions(
  intro: IntrospectionOptions | undefined,
  allowInsecureHttp: boolean,
): ResolvedIntrospectionOptions | undefined {
  if (intro === undefined) return undefined
  if (typeof intro.clientId !== 'string' || intro.clientId === '')
    invalid('introspection.clientId is required')
  if (typeof intro.auth?.apply !== 'function')
    invalid('introspection.auth must be a client authentication strategy')
  const { cache } = intro
  if (cache !== undefined && (typeof cache?.get !== 'function' || typeof cache.set !== 'function'))
    invalid('introspection.cache must have get and set methods')
  const mode = intro.mode ?? 'opaque'
  if (mode !== 'opaque' && mode !== 'all') invalid('introspection.mode must be "opaque" or "all"')
  return {
    endpoint: url(intro.endpoint, 'introspection.endpoint', allowInsecureHttp),
    clientId: intro.clientId,
    auth: intro.auth,
    mode,
    maxTtlMs: positive(intro.maxTtlMs, 'introspection.maxTtlMs', DEFAULT_INTROSPECTION_MAX_TTL_MS),
    inactiveTtlMs: positive(
      intro.inactiveTtlMs,
      'introspection.inactiveTtlMs',
      DEFAULT_INTROSPECTION_INACTIVE_TTL_MS,
    ),
    maxEntries: positive(intro.maxEntries, 'introspection.maxEntries', DEFAULT_INTROSPECTION_MAX_ENTRIES),
    cache,
    failureCooldownMs: nonNegativeMs(
      intro.failureCooldownMs,
      'introspection.failureCooldownMs',
      DEFAULT_INTROSPECTION_FAILURE_COOLDOWN_MS,
    ),
  }
}
