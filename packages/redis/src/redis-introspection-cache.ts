/**
 * The verifier's introspection answers on Redis, shared by the instances of an API: one
 * introspection call per token for all of them.
 *
 * Keys (after `keyPrefix`): `introspection:<token digest>` (the verifier's SHA-256 of the token,
 * never the token), holding the answer and when it was fetched (JSON), expiring when the verifier
 * says (at most `maxTtlMs`, never past the token's `exp`).
 *
 * @module redis-introspection-cache
 */
import { StoreUnavailableError } from '@oauth-m2m/core'
import type { IntrospectionCache, IntrospectionCacheEntry } from '@oauth-m2m/verifier'
import { RedisConnection, type RedisStoreOptions } from './redis-connection.js'

/** Options of {@link redisIntrospectionCache}: where Redis is ({@link RedisStoreOptions}). */
export interface RedisIntrospectionCacheOptions extends RedisStoreOptions {}

/** An `IntrospectionCache` of `@oauth-m2m/verifier` on Redis, with `close()` for the connection it made. */
export interface RedisIntrospectionCache extends IntrospectionCache {
  get(key: string): Promise<IntrospectionCacheEntry | undefined>
  set(key: string, entry: IntrospectionCacheEntry, ttlMs: number): Promise<void>
  /** Closes the connection the store made from `url` (never an application's `client`). Calls after it reject. */
  close(): Promise<void>
}

/**
 * A cache of introspection answers on Redis for `createVerifier({ introspection: { cache } })`:
 * give every instance of the API the same Redis and `keyPrefix`, and one `keyPrefix` per
 * authorization server. When Redis is away the calls reject with `StoreUnavailableError` and the
 * verifier asks the introspection endpoint itself.
 *
 * The values are the answers' claims (client ids, scopes, subjects), not tokens: still, keep Redis
 * on a private network with authentication.
 */
export function redisIntrospectionCache(options: RedisIntrospectionCacheOptions): RedisIntrospectionCache {
  const connection = new RedisConnection('redisIntrospectionCache', options)
  const prefix = `${connection.keyPrefix}introspection:`
  return {
    async get(key: string): Promise<IntrospectionCacheEntry | undefined> {
      const json = await connection.command<string | null>('get introspection answer', ['GET', prefix + key])
      if (json === null) return undefined
      try {
        // The verifier checks the shape: what is not an entry counts as a miss.
        return JSON.parse(json) as IntrospectionCacheEntry
      } catch {
        throw new StoreUnavailableError('Redis holds an introspection answer that is not JSON')
      }
    },
    async set(key: string, entry: IntrospectionCacheEntry, ttlMs: number): Promise<void> {
      const px = Math.ceil(ttlMs)
      await connection.command('set introspection answer', [
        'SET',
        prefix + key,
        JSON.stringify(entry),
        'PX',
        String(Number.isFinite(px) ? Math.max(1, px) : 1),
      ])
    },
    close: () => connection.close(),
  }
}
