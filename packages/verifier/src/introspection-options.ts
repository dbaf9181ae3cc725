/**
 * The `introspection` option of `createVerifier`: its defaults and its validation.
 *
 * @module introspection-options
 */
import {
  DEFAULT_INTROSPECTION_FAILURE_COOLDOWN_MS,
  DEFAULT_INTROSPECTION_INACTIVE_TTL_MS,
  DEFAULT_INTROSPECTION_MAX_ENTRIES,
  DEFAULT_INTROSPECTION_MAX_TTL_MS,
  type IntrospectionOptions,
} from './introspection.js'
import type { IntrospectionCache } from './introspection-cache.js'
import { invalid, nonNegativeMs, positive, url } from './option-checks.js'

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
