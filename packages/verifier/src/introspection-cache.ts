/**
 * Where a verifier may share its introspection answers with the other instances of the same API:
 * the {@link IntrospectionCache} interface. Each verifier always keeps answers in its own bounded
 * memory first; a shared cache is the second level, asked only on a miss there, so that N instances
 * make one introspection call per token between them instead of N.
 *
 * @module introspection-cache
 */

/** One introspection answer as a shared cache keeps it. */
export interface IntrospectionCacheEntry {
  /** The endpoint's RFC 7662 answer as it sent it: a JSON object with a boolean `active`. */
  readonly answer: Readonly<Record<string, unknown>>
  /**
   * When the endpoint gave it, epoch ms on the clock of the verifier that asked: a verifier
   * reading the entry reuses it only for what is left of `maxTtlMs` (or `inactiveTtlMs`), so that
   * sharing never lengthens how long a revoked token still passes.
   */
  readonly fetchedAtMs: number
}

/**
 * Introspection answers shared by the instances of a resource server (e.g. `redisIntrospectionCache`
 * of `@oauth-m2m/redis`), the `introspection.cache` option. Keys are SHA-256 digests of the tokens
 * (base64), never a token; values hold the answers' claims (client id, scopes, subject…): protect
 * the store. Give one cache (or key prefix) to the verifiers of one authorization server only.
 *
 * The verifier never relies on it: a `get` that throws, rejects, answers something that is not an
 * entry, or takes longer than the verifier's `timeoutMs` counts as a miss (the endpoint is asked),
 * and a failed `set` is ignored.
 */
export interface IntrospectionCache {
  /** The entry stored under `key`, or `undefined`. */
  get(key: string): Promise<IntrospectionCacheEntry | undefined> | IntrospectionCacheEntry | undefined
  /** Stores `entry` under `key` for `ttlMs` milliseconds (never past the token's `exp`). */
  set(key: string, entry: IntrospectionCacheEntry, ttlMs: number): Promise<void> | void
}

/** Whether `value` is an {@link IntrospectionCacheEntry} (a shared store may hold anything). */
export function isIntrospectionCacheEntry(value: unknown): value is IntrospectionCacheEntry {
  const entry = value as IntrospectionCacheEntry
  return (
    typeof entry === 'object' &&
    entry !== null &&
    typeof entry.answer === 'object' &&
    entry.answer !== null &&
    !Array.isArray(entry.answer) &&
    typeof entry.answer.active === 'boolean' &&
    Number.isFinite(entry.fetchedAtMs)
  )
}
