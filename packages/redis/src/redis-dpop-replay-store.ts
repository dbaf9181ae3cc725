/**
 * The verifier's DPoP replay store on Redis, so that a proof accepted by one instance of an API is
 * refused by the others (RFC 9449 §11.1).
 *
 * Keys (after `keyPrefix`): `dpop-proof:<digest>` (the SHA-256 of the proof's key thumbprint and
 * `jti`, base64url), holding `1`, expiring when the proof could be accepted no more.
 *
 * @module redis-dpop-replay-store
 */
import { createHash } from 'node:crypto'
import type { DpopReplayStore } from '@oauth-m2m/verifier'
import { RedisConnection, type RedisStoreOptions } from './redis-connection.js'

/** Options of {@link redisDpopReplayStore}: where Redis is ({@link RedisStoreOptions}). */
export interface RedisDpopReplayStoreOptions extends RedisStoreOptions {}

/** A `DpopReplayStore` of `@oauth-m2m/verifier` on Redis, with `close()` for the connection it made. */
export interface RedisDpopReplayStore extends DpopReplayStore {
  /** `SET dpop-proof:<digest> 1 NX PX ttlMs`: `true` for a proof seen for the first time. */
  recordIfNew(key: string, ttlMs: number): Promise<boolean>
  /** Closes the connection the store made from `url` (never an application's `client`). Calls after it reject. */
  close(): Promise<void>
}

/**
 * A DPoP replay store on Redis for `createVerifier({ dpop: { replayStore } })`: give every
 * instance of the API the same Redis and `keyPrefix`. When Redis is away `recordIfNew` rejects
 * with `StoreUnavailableError` and the verifier refuses the request with a 503, never accepts a
 * proof it could not record. Run Redis with `maxmemory-policy noeviction` (its default): an
 * evicted proof could be replayed.
 */
export function redisDpopReplayStore(options: RedisDpopReplayStoreOptions): RedisDpopReplayStore {
  const connection = new RedisConnection('redisDpopReplayStore', options)
  const prefix = `${connection.keyPrefix}dpop-proof:`
  return {
    async recordIfNew(key: string, ttlMs: number): Promise<boolean> {
      const digest = createHash('sha256').update(key).digest('base64url')
      const px = Math.ceil(ttlMs)
      const set = await connection.command<string | null>('record DPoP proof', [
        'SET',
        prefix + digest,
        '1',
        'NX',
        'PX',
        String(Number.isFinite(px) ? Math.max(1, px) : 1),
      ])
      return set !== null
    },
    close: () => connection.close(),
  }
}
