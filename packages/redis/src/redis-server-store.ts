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
import { RedisConnection, type RedisScript, type RedisStoreOptions, redisScript } from './redis-connection.js'
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
   * Key-encryption keys this store still reads with but never writes with, to change the
   * `keyEncryptionKey` without stopping: signing keys, registrations, opaque tokens and events
   * under one of them are accepted, and signing keys and registrations are rewritten under
   * `keyEncryptionKey` when read (all of them by {@link RedisServerStore.rekey}). The steps are in
   * the README ("Changing the key-encryption key"). Same forms as `keyEncryptionKey`, which they
   * need. Default none.
   */
  keyEncryptionKeyFallbacks?: ReadonlyArray<Uint8Array | string>
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

/** What {@link RedisServerStore.rekey} rewrote under the current key-encryption key. */
export interface RekeyReport {
  /** Registered clients that were under a fallback key. */
  readonly clients: number
  /** Whether the signing key set was under a fallback key. */
  readonly signingKeys: boolean
}

/** A {@link ServerStore} on Redis, with the connections it made closed by {@link RedisServerStore.close}. */
export interface RedisServerStore extends ServerStore {
  /**
   * Rewrites under `keyEncryptionKey` every registered client and the signing key set that are
   * still under one of `keyEncryptionKeyFallbacks`, each by compare-and-set (a value changed
   * meanwhile was written under the current key already). Safe to run on several instances at once
   * and again. Opaque tokens are not rewritten: they are read under a fallback until they expire.
   *
   * @throws {ConfigurationError} without a `keyEncryptionKey`.
   * @throws {StoreUnavailableError} when Redis fails, or a value is under none of the keys.
   */
  rekey(): Promise<RekeyReport>
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

/**
 * Replaces the signing key set's ciphertext if it is still the one read, the version unchanged.
 * KEYS: signing-keys. ARGV: version, ciphertext read, new ciphertext.
 */
const REKEY_SIGNING_KEYS = redisScript(`
if redis.call('HGET', KEYS[1], 'version') ~= ARGV[1] or redis.call('HGET', KEYS[1], 'keys') ~= ARGV[2] then
  return 0
end
redis.call('HSET', KEYS[1], 'keys', ARGV[3])
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
  /** The key-encryption key, then its fallbacks; `undefined` without one. */
  readonly #keks: readonly [KeyEncryptionKey, ...KeyEncryptionKey[]] | undefined
  /**
   * Tag registrations, opaque tokens and events, in the order of `#keks`: the first seals, every
   * one opens. Empty without a key-encryption key.
   */
  readonly #seals: readonly ValueSeal[]
  readonly #maxClients: number
  readonly #now: () => number

  constructor(options: RedisServerStoreOptions) {
    const owner = 'redisServerStore'
    const max = options.maxRegisteredClients ?? DEFAULT_MAX_REGISTERED_CLIENTS
    if (!Number.isSafeInteger(max) || max < 0) {
      throw new ConfigurationError(`${owner}: maxRegisteredClients must be a non-negative integer`)
    }
    this.#maxClients = max
    this.#keks = keyEncryptionKeys(owner, options)
    this.#seals = (this.#keks ?? []).map((kek) => new ValueSeal(kek.key))
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
    const seal = this.#seals[0]
    return seal === undefined ? json : seal.seal(redisKey, json)
  }

  /**
   * The JSON stored (or published) under `redisKey`, and whether its tag is one of a fallback key;
   * `undefined` when no key's tag matches.
   */
  #open(redisKey: string, stored: string): { json: string; underFallbackKey: boolean } | undefined {
    if (this.#seals.length === 0) return { json: stored, underFallbackKey: false }
    for (const [index, seal] of this.#seals.entries()) {
      const json = seal.open(redisKey, stored)
      if (json !== undefined) return { json, underFallbackKey: index > 0 }
    }
    return undefined
  }

  /**
   * The JSON object stored under `redisKey`, and whether it is under a fallback key; rejects when it
   * is not one, or (with a key) when its tag does not match: written by someone without the
   * key-encryption key, or moved from another key.
   */
  #readForm(
    redisKey: string,
    stored: string,
    what: string,
  ): { value: Record<string, unknown>; underFallbackKey: boolean } {
    const opened = this.#open(redisKey, stored)
    if (opened === undefined) {
      throw new StoreUnavailableError(
        `Redis holds ${what} whose integrity tag does not match: it was altered`,
      )
    }
    const value = parseObject(opened.json)
    if (value === undefined) throw new StoreUnavailableError(`Redis holds ${what} that is not a JSON object`)
    return { value, underFallbackKey: opened.underFallbackKey }
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
    return stored === null
      ? undefined
      : (this.#readForm(key, stored, 'an opaque token').value as StoredTokenClaims)
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
    return (await this.#readClient(clientId))?.client
  }

  /**
   * The registration of `clientId`, rewritten under the current key first when it was under a
   * fallback key (`rekeyed`): replaceClient compares with what the current key seals.
   */
  async #readClient(clientId: string): Promise<{ client: StoredClient; rekeyed: boolean } | undefined> {
    const key = `${this.#prefix}client:${clientId}`
    const stored = await this.#connection.command<string | null>('find registered client', ['GET', key])
    if (stored === null) return undefined
    const { value: client, underFallbackKey } = this.#readForm(key, stored, 'a registered client')
    if (client.client_id !== clientId) {
      throw new StoreUnavailableError('Redis holds a registered client under another client_id')
    }
    const rekeyed =
      underFallbackKey &&
      // A client changed meanwhile was written under the current key: nothing left to do then.
      (await this.#rewrite(
        'rekey registered client',
        REPLACE_CLIENT,
        [key],
        [stored, this.#storedForm(key, client)],
      ))
    return { client: client as StoredClient, rekeyed }
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

  #requireKeks(action: string): readonly [KeyEncryptionKey, ...KeyEncryptionKey[]] {
    if (this.#keks === undefined) {
      throw new ConfigurationError(
        `redisServerStore: keyEncryptionKey is required to ${action} the signing keys (they are encrypted at ` +
          'rest; every instance on this Redis needs the same 32-byte key, e.g. from M2M_KEY_ENCRYPTION_KEY)',
      )
    }
    return this.#keks
  }

  async loadSigningKeys(): Promise<StoredSigningKeys | undefined> {
    return (await this.#readSigningKeys())?.keys
  }

  /**
   * The signing key set, rewritten under the current key first when it was under a fallback key
   * (`rekeyed`), by compare-and-set: a set saved meanwhile is under the current key already.
   */
  async #readSigningKeys(): Promise<{ keys: StoredSigningKeys; rekeyed: boolean } | undefined> {
    const redisKey = `${this.#prefix}signing-keys`
    const [version, stored] = await this.#connection.command<[string | null, string | null]>(
      'load signing keys',
      ['HMGET', redisKey, 'version', 'keys'],
    )
    if (version === null || stored === null) return undefined
    const number = Number(version)
    if (!Number.isSafeInteger(number) || number < 1) {
      throw new StoreUnavailableError('Redis holds signing keys without a valid version')
    }
    const keks = this.#requireKeks('read')
    const { keys, kek } = await decryptSigningKeys(stored, number, keks, this.#prefix)
    if (kek === keks[0]) return { keys, rekeyed: false }
    const rekeyed = await this.#rewrite(
      'rekey signing keys',
      REKEY_SIGNING_KEYS,
      [redisKey],
      [version, stored, await encryptSigningKeys(keys, keks[0], this.#prefix)],
    )
    return { keys, rekeyed }
  }

  /**
   * Runs a compare-and-set that moves a value read under a fallback key to the current key:
   * whether it did. A failure is no failure of the read it follows, which has its value: the next
   * read (or `rekey`) tries again.
   */
  async #rewrite(operation: string, script: RedisScript, keys: string[], args: string[]): Promise<boolean> {
    try {
      return (await this.#connection.script<number>(operation, script, keys, args)) === 1
    } catch {
      return false
    }
  }

  async rekey(): Promise<RekeyReport> {
    this.#requireKeks('rekey')
    let clients = 0
    let cursor = '0'
    do {
      // SSCAN rather than SMEMBERS: Redis answers other commands between two pages.
      const [next, ids] = await this.#connection.command<[string, string[]]>('list registered clients', [
        'SSCAN',
        `${this.#prefix}clients`,
        cursor,
        'COUNT',
        '500',
      ])
      cursor = next
      for (const id of ids) if ((await this.#readClient(id))?.rekeyed) clients++
    } while (cursor !== '0')
    const signingKeys = (await this.#readSigningKeys())?.rekeyed ?? false
    return { clients, signingKeys }
  }

  async saveSigningKeys(keys: StoredSigningKeys): Promise<boolean> {
    if (!Number.isSafeInteger(keys.version) || keys.version < 1) {
      throw new TypeError('saveSigningKeys: version must be a positive integer')
    }
    const encrypted = await encryptSigningKeys(keys, this.#requireKeks('save')[0], this.#prefix)
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
      const opened = this.#open(channel, message)
      const event = opened === undefined ? undefined : parseEvent(opened.json)
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

/** The `keyEncryptionKey` option, then its `keyEncryptionKeyFallbacks`; `undefined` without one. */
function keyEncryptionKeys(
  owner: string,
  options: RedisServerStoreOptions,
): [KeyEncryptionKey, ...KeyEncryptionKey[]] | undefined {
  const fallbacks = options.keyEncryptionKeyFallbacks ?? []
  if (!Array.isArray(fallbacks)) {
    throw new ConfigurationError(`${owner}: keyEncryptionKeyFallbacks must be an array of keys`)
  }
  if (options.keyEncryptionKey === undefined) {
    if (fallbacks.length > 0) {
      throw new ConfigurationError(
        `${owner}: keyEncryptionKeyFallbacks needs a keyEncryptionKey to write with`,
      )
    }
    return undefined
  }
  const current = keyEncryptionKey(owner, options.keyEncryptionKey)
  const others = fallbacks.map((value: Uint8Array | string, index: number) =>
    keyEncryptionKey(owner, value, `keyEncryptionKeyFallbacks[${index}]`),
  )
  if (others.some((other) => other.id === current.id)) {
    throw new ConfigurationError(`${owner}: keyEncryptionKeyFallbacks holds the keyEncryptionKey itself`)
  }
  return [current, ...others]
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
