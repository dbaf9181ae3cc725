/**
 * The authorization server's state on Redis, so that several instances behave as one: opaque
 * tokens, revoked `jti`s, spent one-time values, registered clients, the signing keys (encrypted),
 * failed-authentication counts, and change events over pub/sub.
 *
 * Keys (after `keyPrefix`), each with a TTL except the registrations (bounded by
 * `maxRegisteredClients`) and the one signing-key set:
 *
 * | Key                          | Type   | Holds                                      | Expires                 |
 * | ---------------------------- | ------ | ------------------------------------------ | ----------------------- |
 * | `opaque:<token hash>`        | string | the token's claims (JSON)                  | with the token          |
 * | `revoked:<jti>`              | string | `1`                                        | when the token would    |
 * | `once:<use>:<digest>`        | string | `1` (a spent assertion or DPoP proof `jti`) | when it could be replayed no more |
 * | `client:<client_id>`         | string | the registration (JSON, hashes only)       | never (bounded)         |
 * | `clients`                    | set    | the registered `client_id`s (the bound)    | never (bounded)         |
 * | `signing-keys`               | hash   | `version`, `keys` (a JWE)                  | never (one)             |
 * | `failures:<digest>`          | hash   | `n` failures, window `end` (epoch ms)       | with the window         |
 *
 * Events are published on the channel `<keyPrefix>events`, as JSON behind the same integrity tag
 * as registrations when there is a key-encryption key; a message without a valid tag is ignored.
 *
 * @module redis-server-store
 */
import { createHash } from 'node:crypto'
import { ConfigurationError, StoreUnavailableError } from '@oauth-m2m/core'
import type {
  FailureCount,
  OneTimeUse,
  ServerStore,
  StoredClient,
  StoredSigningKeys,
  StoredTokenClaims,
  StoreEvent,
  StoreFull,
} from '@oauth-m2m/server'
import { RedisConnection, type RedisStoreOptions, redisScript } from './redis-connection.js'
import {
  decryptSigningKeys,
  encryptSigningKeys,
  type KeyEncryptionKey,
  keyEncryptionKey,
} from './signing-keys-encryption.js'
import { ValueSeal } from './value-seal.js'

/** Default of {@link RedisServerStoreOptions.maxRegisteredClients}. */
export const DEFAULT_MAX_REGISTERED_CLIENTS = 10_000

/** Options of {@link redisServerStore}: where Redis is, plus what only the server's state needs. */
export interface RedisServerStoreOptions extends RedisStoreOptions {
  /**
   * The key that encrypts the signing keys at rest (AES-256-GCM, as a JWE): 32 random bytes, as a
   * `Uint8Array` or base64url-encoded (43 characters, what `M2M_KEY_ENCRYPTION_KEY` holds). Every
   * instance on one Redis needs the same key. Required when the server keeps its signing keys on
   * the store (it does when given a store); no private key is ever written in the clear. With it,
   * registered clients, opaque tokens and the events between instances are also stored or sent
   * behind an integrity tag (HMAC-SHA-256 with a key derived from this one): one written, changed
   * or published by someone without the key is refused.
   */
  keyEncryptionKey?: Uint8Array | string
  /**
   * Most clients registered through the registration endpoint (RFC 7591). Beyond it, a new
   * registration is refused (the server answers 503 `temporarily_unavailable`) until one is
   * deleted; replacing an existing one needs no room. Default 10 000.
   */
  maxRegisteredClients?: number
  /**
   * The clock TTLs are computed on, epoch ms: an entry expiring at `expiresAtMs` is kept for
   * `expiresAtMs - now()`. Give it the server's `now` when the server is configured with one.
   * Default `Date.now`.
   */
  now?: () => number
}

/** A {@link ServerStore} on Redis, with the connections it made closed by {@link RedisServerStore.close}. */
export interface RedisServerStore extends ServerStore {
  /**
   * Closes the connections the store made (the subscriber always; the command connection when
   * it was made from `url`, never an application's `client`). Calls after it reject.
   */
  close(): Promise<void>
}

/** A one-time value longer than this is stored as its SHA-256 digest (what the server hands in). */
const MAX_RAW_KEY_LENGTH = 43

/** How long a full registration table is reported full before asking again. */
const REGISTRATIONS_FULL_RETRY_MS = 60_000

const USES: ReadonlySet<string> = new Set<OneTimeUse>(['client-assertion', 'dpop-proof'])

/** Saves a registration unless the table is full and it is new. KEYS: client, index. ARGV: json, id, max. */
const SAVE_CLIENT = redisScript(`
if redis.call('EXISTS', KEYS[1]) == 0 and redis.call('SCARD', KEYS[2]) >= tonumber(ARGV[3]) then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('SADD', KEYS[2], ARGV[2])
return 1
`)

/**
 * Replaces a registration if it is still the one read. KEYS: client. ARGV: stored form read, new
 * stored form. A deleted registration is not the one read, so it is not brought back.
 */
const REPLACE_CLIENT = redisScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
redis.call('SET', KEYS[1], ARGV[2])
return 1
`)

/** Deletes a registration. KEYS: client, index. ARGV: id. */
const DELETE_CLIENT = redisScript(`
local deleted = redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[2], ARGV[1])
return deleted
`)

/** Compare-and-set of the key set. KEYS: signing-keys. ARGV: new version, encrypted set. */
const SAVE_SIGNING_KEYS = redisScript(`
local stored = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
if stored ~= tonumber(ARGV[1]) - 1 then
  return 0
end
redis.call('HSET', KEYS[1], 'version', ARGV[1], 'keys', ARGV[2])
return 1
`)

/**
 * Counts a failure in the window its first failure opens. KEYS: failures. ARGV: window end (epoch
 * ms), window length (ms). The TTL is set again if it was ever lost, so no count outlives its window
 * by more than one window.
 */
const COUNT_FAILURE = redisScript(`
local n = redis.call('HINCRBY', KEYS[1], 'n', 1)
if n == 1 then
  redis.call('HSET', KEYS[1], 'end', ARGV[1])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
elseif redis.call('PTTL', KEYS[1]) < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return {n, redis.call('HGET', KEYS[1], 'end') or ARGV[1]}
`)

/**
 * A {@link ServerStore} on Redis: hand it to `createAuthorizationServer({ store })` of every
 * instance that must behave as one server.
 *
 * Run Redis with `maxmemory-policy noeviction` (its default): an evicted revocation or spent
 * `jti` would be accepted again. When Redis is out of memory or away, calls reject with
 * `StoreUnavailableError` and the server answers 503.
 */
export function redisServerStore(options: RedisServerStoreOptions): RedisServerStore {
  return new RedisServerStoreImpl(options)
}

class RedisServerStoreImpl implements RedisServerStore {
  readonly #connection: RedisConnection
  readonly #prefix: string
  readonly #kek: KeyEncryptionKey | undefined
  /** Tags registrations and opaque tokens when there is a key-encryption key. */
  readonly #seal: ValueSeal | undefined
  readonly #maxClients: number
  readonly #now: () => number

  constructor(options: RedisServerStoreOptions) {
    const owner = 'redisServerStore'
    const max = options.maxRegisteredClients ?? DEFAULT_MAX_REGISTERED_CLIENTS
    if (!Number.isSafeInteger(max) || max < 0) {
      throw new ConfigurationError(`${owner}: maxRegisteredClients must be a non-negative integer`)
    }
    this.#maxClients = max
    this.#kek =
      options.keyEncryptionKey === undefined ? undefined : keyEncryptionKey(owner, options.keyEncryptionKey)
    this.#seal = this.#kek === undefined ? undefined : new ValueSeal(this.#kek.key)
    this.#now = options.now ?? Date.now
    this.#connection = new RedisConnection(owner, options)
    this.#prefix = this.#connection.keyPrefix
  }

  /** Milliseconds from now until `expiresAtMs`, a whole number of at least 1 (Redis's PX). */
  #ttlUntil(expiresAtMs: number): string {
    const ms = Math.ceil(expiresAtMs - this.#now())
    return String(Number.isFinite(ms) ? Math.max(1, ms) : 1)
  }

  /**
   * What is stored under `redisKey` (or published on the channel `redisKey`) for the JSON object
   * `value`: sealed when there is a key.
   */
  #storedForm(redisKey: string, value: object): string {
    const json = JSON.stringify(value)
    return this.#seal === undefined ? json : this.#seal.seal(redisKey, json)
  }

  /**
   * The JSON object stored under `redisKey`; rejects when it is not one, or (with a key) when its
   * tag does not match: written by someone without the key-encryption key, or moved from another key.
   */
  #readForm(redisKey: string, stored: string, what: string): Record<string, unknown> {
    const json = this.#seal === undefined ? stored : this.#seal.open(redisKey, stored)
    if (json === undefined) {
      throw new StoreUnavailableError(
        `Redis holds ${what} whose integrity tag does not match: it was altered`,
      )
    }
    const value = parseObject(json)
    if (value === undefined) throw new StoreUnavailableError(`Redis holds ${what} that is not a JSON object`)
    return value
  }

  async saveOpaqueToken(tokenHash: string, claims: StoredTokenClaims, expiresAtMs: number): Promise<void> {
    const key = `${this.#prefix}opaque:${tokenHash}`
    await this.#connection.command('save opaque token', [
      'SET',
      key,
      this.#storedForm(key, claims),
      'PX',
      this.#ttlUntil(expiresAtMs),
    ])
  }

  async findOpaqueToken(tokenHash: string): Promise<StoredTokenClaims | undefined> {
    const key = `${this.#prefix}opaque:${tokenHash}`
    const stored = await this.#connection.command<string | null>('find opaque token', ['GET', key])
    return stored === null ? undefined : (this.#readForm(key, stored, 'an opaque token') as StoredTokenClaims)
  }

  async deleteOpaqueToken(tokenHash: string): Promise<void> {
    await this.#connection.command('delete opaque token', ['DEL', `${this.#prefix}opaque:${tokenHash}`])
  }

  async revokeJti(jti: string, expiresAtMs: number): Promise<undefined> {
    await this.#connection.command('revoke jti', [
      'SET',
      `${this.#prefix}revoked:${jti}`,
      '1',
      'PX',
      this.#ttlUntil(expiresAtMs),
    ])
    return undefined
  }

  async isJtiRevoked(jti: string): Promise<boolean> {
    const found = await this.#connection.command<number>('check revoked jti', [
      'EXISTS',
      `${this.#prefix}revoked:${jti}`,
    ])
    return found === 1
  }

  async useOnce(use: OneTimeUse, key: string, expiresAtMs: number): Promise<boolean> {
    if (!USES.has(use)) throw new TypeError('useOnce: unknown use')
    // The server hands in 43-character digests; anything longer is digested, so that a key's size
    // stays fixed whoever calls.
    const fixed = key.length > MAX_RAW_KEY_LENGTH ? createHash('sha256').update(key).digest('base64url') : key
    const set = await this.#connection.command<string | null>(`spend ${use} jti`, [
      'SET',
      `${this.#prefix}once:${use}:${fixed}`,
      '1',
      'NX',
      'PX',
      this.#ttlUntil(expiresAtMs),
    ])
    return set !== null
  }

  async saveClient(client: StoredClient): Promise<StoreFull | undefined> {
    const id = client.client_id
    if (typeof id !== 'string' || id === '')
      throw new TypeError('saveClient: client_id must be a non-empty string')
    const key = `${this.#prefix}client:${id}`
    const saved = await this.#connection.script<number>(
      'save registered client',
      SAVE_CLIENT,
      [key, `${this.#prefix}clients`],
      [this.#storedForm(key, client), id, String(this.#maxClients)],
    )
    // Registrations never expire, so room comes only from a deletion: ask again after a while.
    return saved === 1 ? undefined : { fullUntilMs: this.#now() + REGISTRATIONS_FULL_RETRY_MS }
  }

  async replaceClient(current: StoredClient, next: StoredClient): Promise<boolean> {
    const id = current.client_id
    if (typeof id !== 'string' || id === '' || next.client_id !== id) {
      throw new TypeError('replaceClient: client_id must be a non-empty string that does not change')
    }
    const key = `${this.#prefix}client:${id}`
    // findClient parsed what is stored, so the client read serializes (and seals) to it again.
    const replaced = await this.#connection.script<number>(
      'replace registered client',
      REPLACE_CLIENT,
      [key],
      [this.#storedForm(key, current), this.#storedForm(key, next)],
    )
    return replaced === 1
  }

  async findClient(clientId: string): Promise<StoredClient | undefined> {
    const key = `${this.#prefix}client:${clientId}`
    const stored = await this.#connection.command<string | null>('find registered client', ['GET', key])
    if (stored === null) return undefined
    const client = this.#readForm(key, stored, 'a registered client')
    if (client.client_id !== clientId) {
      throw new StoreUnavailableError('Redis holds a registered client under another client_id')
    }
    return client as StoredClient
  }

  async deleteClient(clientId: string): Promise<boolean> {
    const deleted = await this.#connection.script<number>(
      'delete registered client',
      DELETE_CLIENT,
      [`${this.#prefix}client:${clientId}`, `${this.#prefix}clients`],
      [clientId],
    )
    return deleted === 1
  }

  #requireKek(action: string): KeyEncryptionKey {
    if (this.#kek === undefined) {
      throw new ConfigurationError(
        `redisServerStore: keyEncryptionKey is required to ${action} the signing keys (they are encrypted at ` +
          'rest; every instance on this Redis needs the same 32-byte key, e.g. from M2M_KEY_ENCRYPTION_KEY)',
      )
    }
    return this.#kek
  }

  async loadSigningKeys(): Promise<StoredSigningKeys | undefined> {
    const [version, keys] = await this.#connection.command<[string | null, string | null]>(
      'load signing keys',
      ['HMGET', `${this.#prefix}signing-keys`, 'version', 'keys'],
    )
    if (version === null || keys === null) return undefined
    const number = Number(version)
    if (!Number.isSafeInteger(number) || number < 1) {
      throw new StoreUnavailableError('Redis holds signing keys without a valid version')
    }
    return decryptSigningKeys(keys, number, this.#requireKek('read'), this.#prefix)
  }

  async saveSigningKeys(keys: StoredSigningKeys): Promise<boolean> {
    if (!Number.isSafeInteger(keys.version) || keys.version < 1) {
      throw new TypeError('saveSigningKeys: version must be a positive integer')
    }
    const encrypted = await encryptSigningKeys(keys, this.#requireKek('save'), this.#prefix)
    const saved = await this.#connection.script<number>(
      'save signing keys',
      SAVE_SIGNING_KEYS,
      [`${this.#prefix}signing-keys`],
      [String(keys.version), encrypted],
    )
    return saved === 1
  }

  async countFailure(key: string, windowMs: number): Promise<FailureCount> {
    const window = Math.max(1, Math.ceil(windowMs))
    const reply = await this.#connection.script<[number, string]>(
      'count failure',
      COUNT_FAILURE,
      [`${this.#prefix}failures:${key}`],
      [String(this.#now() + window), String(window)],
    )
    const failures = Number(reply[0])
    const windowEndsAtMs = Number(reply[1])
    if (!Number.isSafeInteger(failures) || !Number.isFinite(windowEndsAtMs)) {
      throw new StoreUnavailableError('Redis answered count failure with something else than a count')
    }
    return { failures, windowEndsAtMs }
  }

  async publish(event: StoreEvent): Promise<void> {
    const channel = `${this.#prefix}events`
    await this.#connection.command('publish event', ['PUBLISH', channel, this.#storedForm(channel, event)])
  }

  subscribe(listener: (event: StoreEvent) => void): () => void {
    const channel = `${this.#prefix}events`
    return this.#connection.subscribe(channel, (message) => {
      // Anyone who can publish on the channel could send anything: only well-formed events pass,
      // and with a key-encryption key only those sealed with it (an `auth-lock` event would
      // otherwise let whoever can publish lock any client out).
      const json = this.#seal === undefined ? message : this.#seal.open(channel, message)
      const event = json === undefined ? undefined : parseEvent(json)
      if (event !== undefined) listener(event)
    })
  }

  async ping(): Promise<void> {
    const reply = await this.#connection.command<string>('ping', ['PING'])
    if (reply !== 'PONG') throw new StoreUnavailableError('Redis answered ping with something else than PONG')
  }

  close(): Promise<void> {
    return this.#connection.close()
  }
}

/** A JSON object, or `undefined` for anything else (an array, a scalar, not JSON). */
function parseObject(json: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(json)
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined
  } catch {
    return undefined
  }
}

/** A well-formed {@link StoreEvent} with only its own members, or `undefined`. */
function parseEvent(message: string): StoreEvent | undefined {
  const value = parseObject(message)
  if (value === undefined) return undefined
  switch (value.type) {
    case 'signing-keys':
      return { type: 'signing-keys' }
    case 'client':
      return typeof value.clientId === 'string' ? { type: 'client', clientId: value.clientId } : undefined
    case 'auth-lock':
      return typeof value.key === 'string' &&
        typeof value.untilMs === 'number' &&
        Number.isFinite(value.untilMs)
        ? { type: 'auth-lock', key: value.key, untilMs: value.untilMs }
        : undefined
    default:
      return undefined
  }
}
