/**
 * The client's token store on Redis, for a fleet of processes that share tokens: one token
 * request per key for the whole fleet (the client's distributed single flight), not one per
 * process.
 *
 * Keys (after `keyPrefix`; `<id>` is the SHA-256 of the client's cache key, base64url):
 *
 * | Key               | Type   | Holds                                   | Expires                          |
 * | ----------------- | ------ | --------------------------------------- | -------------------------------- |
 * | `token:<id>`      | string | the `TokenSet` (JSON): an access token   | with the token                   |
 * | `token-lock:<id>` | string | a random id of the process fetching it  | after the client's request deadline |
 *
 * Storing a token and releasing a lock publish `<id>` on the channel `<keyPrefix>token-events`,
 * which wakes the processes waiting in `waitForToken`.
 *
 * @module redis-token-store
 */
import { createHash, randomUUID } from 'node:crypto'
import type { TokenSet, TokenStore, TokenStoreLock } from '@oauth-m2m/client'
import { StoreUnavailableError } from '@oauth-m2m/core'
import { RedisConnection, type RedisStoreOptions, redisScript } from './redis-connection.js'

/** Options of {@link redisTokenStore}: where Redis is ({@link RedisStoreOptions}). */
export interface RedisTokenStoreOptions extends RedisStoreOptions {}

/**
 * A `TokenStore` of `@oauth-m2m/client` on Redis, with the lock and the wait that give a fleet
 * one token request per key, and `close()` for the connections it made.
 */
export interface RedisTokenStore extends TokenStore {
  /** `GET token:<id>`: the stored `TokenSet`, or `undefined`. */
  get(key: string): Promise<TokenSet | undefined>
  /** `SET token:<id> <json> PX ttlMs`, then tells the waiting processes. */
  set(key: string, value: TokenSet, ttlMs: number): Promise<void>
  /** `DEL token:<id>`. */
  delete(key: string): Promise<void>
  /** `SET token-lock:<id> <random> NX PX ttlMs`: the lock, or `undefined` when another process holds it. */
  lock(key: string, ttlMs: number): Promise<TokenStoreLock | undefined>
  /**
   * Waits for the holder of `key`'s lock to store a token or release the lock (told over pub/sub,
   * and checked by reading the lock with a growing pause in case a message was lost), at most
   * until the lock expires or `timeoutMs` passes; resolves with the token then stored (at once
   * when no one holds the lock), or `undefined` at the time limit.
   */
  waitForToken(key: string, timeoutMs: number): Promise<TokenSet | undefined>
  /**
   * Closes the connections the store made (the subscriber always; the command connection when it
   * was made from `url`, never an application's `client`). Calls after it reject.
   */
  close(): Promise<void>
}

/**
 * Stores a token and tells the waiting processes. KEYS: token. ARGV: json, ttl ms, channel, id.
 */
const SET_TOKEN = redisScript(`
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('PUBLISH', ARGV[3], ARGV[4])
return 1
`)

/**
 * Releases a lock if it is still this holder's (one whose TTL ran out may be another's by now),
 * and tells the waiting processes. KEYS: lock. ARGV: holder, channel, id.
 */
const RELEASE_LOCK = redisScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('PUBLISH', ARGV[2], ARGV[3])
  return 1
end
return 0
`)

/**
 * Pauses between two reads of a held lock while waiting, in ms: pub/sub is best effort (a message
 * published while the subscriber reconnects is lost), so the lock is also read, soon at first, then
 * less often.
 */
const LOCK_POLL_MIN_MS = 50
const LOCK_POLL_MAX_MS = 1000

/**
 * A token store on Redis for `createTokenClient({ store })` of `@oauth-m2m/client`. Give every
 * process of a fleet the same Redis and `keyPrefix`: the first that needs a token fetches it while
 * the others wait for it (the client's `storeLockWaitMs`), at a cold start and at each refresh.
 * When Redis is away every call rejects with `StoreUnavailableError` and each process fetches its
 * own token, as the client does with any failing store.
 *
 * The values are access tokens: keep Redis on a private network, with authentication (a password
 * or an ACL user in the URL) and TLS (`rediss://`) when it is not on the same host.
 */
export function redisTokenStore(options: RedisTokenStoreOptions): RedisTokenStore {
  return new RedisTokenStoreImpl(options)
}

class RedisTokenStoreImpl implements RedisTokenStore {
  readonly #connection: RedisConnection
  readonly #prefix: string
  readonly #channel: string
  /** Wake-ups of the processes' waits, by key id. */
  readonly #waiters = new Map<string, Set<() => void>>()
  #subscribed = false

  constructor(options: RedisTokenStoreOptions) {
    this.#connection = new RedisConnection('redisTokenStore', options)
    this.#prefix = this.#connection.keyPrefix
    this.#channel = `${this.#prefix}token-events`
  }

  async get(key: string): Promise<TokenSet | undefined> {
    const json = await this.#connection.command<string | null>('get token', ['GET', this.#tokenKey(key)])
    if (json === null) return undefined
    try {
      // The client checks the shape: a value that is not a TokenSet is reported and ignored.
      return JSON.parse(json) as TokenSet
    } catch {
      throw new StoreUnavailableError('Redis holds a token that is not JSON')
    }
  }

  async set(key: string, value: TokenSet, ttlMs: number): Promise<void> {
    await this.#connection.script(
      'set token',
      SET_TOKEN,
      [this.#tokenKey(key)],
      [JSON.stringify(value), pxOf(ttlMs), this.#channel, idOf(key)],
    )
  }

  async delete(key: string): Promise<void> {
    await this.#connection.command('delete token', ['DEL', this.#tokenKey(key)])
  }

  async lock(key: string, ttlMs: number): Promise<TokenStoreLock | undefined> {
    const lockKey = this.#lockKey(key)
    const holder = randomUUID()
    const taken = await this.#connection.command<string | null>('lock token', [
      'SET',
      lockKey,
      holder,
      'NX',
      'PX',
      pxOf(ttlMs),
    ])
    if (taken === null) return undefined
    return {
      release: async () => {
        await this.#connection.script(
          'release token lock',
          RELEASE_LOCK,
          [lockKey],
          [holder, this.#channel, idOf(key)],
        )
      },
    }
  }

  async waitForToken(key: string, timeoutMs: number): Promise<TokenSet | undefined> {
    const id = idOf(key)
    const lockKey = this.#lockKey(key)
    const deadline = performance.now() + timeoutMs
    // Listening before the lock is read: a release between the two is then not missed.
    const wake = this.#listen(id)
    try {
      let pauseMs = LOCK_POLL_MIN_MS
      for (;;) {
        const lockTtlMs = await this.#connection.command<number>('read token lock', ['PTTL', lockKey])
        if (lockTtlMs === -2) break
        const remainingMs = deadline - performance.now()
        if (remainingMs <= 0) return undefined
        // A lock left without a TTL (-1) is not one of ours: read it again like any held lock.
        const woken = await wake.within(Math.min(pauseMs, remainingMs, lockTtlMs > 0 ? lockTtlMs : pauseMs))
        if (woken) break
        pauseMs = Math.min(2 * pauseMs, LOCK_POLL_MAX_MS)
      }
      return await this.get(key)
    } finally {
      wake.stop()
    }
  }

  async close(): Promise<void> {
    await this.#connection.close()
    for (const waiters of this.#waiters.values()) for (const wake of [...waiters]) wake()
  }

  #tokenKey(key: string): string {
    return `${this.#prefix}token:${idOf(key)}`
  }

  #lockKey(key: string): string {
    return `${this.#prefix}token-lock:${idOf(key)}`
  }

  /**
   * A wake-up for `id`: `within(ms)` resolves `true` when a token was stored or a lock released
   * for it (since the call to `#listen`), `false` after `ms`; `stop()` ends the listening.
   */
  #listen(id: string): { within(ms: number): Promise<boolean>; stop(): void } {
    if (!this.#subscribed) {
      this.#subscribed = true
      this.#connection.subscribe(this.#channel, (message) => {
        for (const wake of [...(this.#waiters.get(message) ?? [])]) wake()
      })
    }
    let woken = false
    let onWake: (() => void) | undefined
    const wake = () => {
      woken = true
      onWake?.()
    }
    const waiters = this.#waiters.get(id) ?? new Set()
    this.#waiters.set(id, waiters)
    waiters.add(wake)
    return {
      within: (ms) =>
        new Promise<boolean>((resolve) => {
          if (woken) {
            resolve(true)
            return
          }
          const timer = setTimeout(() => {
            onWake = undefined
            resolve(false)
          }, ms)
          // A caller waiting for its token holds the process itself (the client does).
          timer.unref()
          onWake = () => {
            clearTimeout(timer)
            onWake = undefined
            resolve(true)
          }
        }),
      stop: () => {
        waiters.delete(wake)
        if (waiters.size === 0 && this.#waiters.get(id) === waiters) this.#waiters.delete(id)
      },
    }
  }
}

/** The id of a client cache key in Redis keys and messages: bounded in size whatever the key. */
function idOf(key: string): string {
  return createHash('sha256').update(key).digest('base64url')
}

/** A TTL for `PX`: a whole number of ms, at least 1. */
function pxOf(ttlMs: number): string {
  const ms = Math.ceil(ttlMs)
  return String(Number.isFinite(ms) ? Math.max(1, ms) : 1)
}
