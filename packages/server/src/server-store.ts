/**
 * Server-side state: opaque tokens (by hash), revoked JWT ids and used client-assertion ids. The
 * endpoints see only the {@link ServerStore} interface, so a shared store (Redis, SQL) can replace
 * the in-memory default without touching them.
 *
 * @module server-store
 */
import type { JWK } from 'jose'
import { LRUCache } from 'lru-cache'
import { keyDigest } from './key-digest.js'
import { LiveEntrySet, type StoreFull } from './live-entry-set.js'
import { lruCapacity } from './lru-capacity.js'
import { lruClock } from './lru-clock.js'

export type { StoreFull }

/**
 * The claims of an access token: what the server remembers about an opaque token, and what
 * introspection answers. The server issues every member named here; a `beforeSign` hook may add
 * others, change them or remove any, so a store keeps the object as it is given.
 */
export interface StoredTokenClaims {
  /** The issuer. */
  iss?: string
  /** The client id, as the token's subject. */
  sub?: string
  /** The client the token was issued to. */
  client_id?: string
  /** The audience: one resource, or several. */
  aud?: string | string[]
  /** The granted scope, space-separated. */
  scope?: string
  /** Issued at, epoch seconds. */
  iat?: number
  /** Expiry, epoch seconds. */
  exp?: number
  /** The token's unique id. */
  jti?: string
  /** Claims a `beforeSign` hook added. */
  [claim: string]: unknown
}

/**
 * What a one-time value is spent for (see {@link ServerStore.useOnce}): a used client assertion
 * (RFC 7523 §3 `jti`), or a used DPoP proof (RFC 9449 §11.1 `jti`).
 */
export type OneTimeUse = 'client-assertion' | 'dpop-proof'

/**
 * A change one server instance made to state it shares through the store, which every other
 * instance on that store must pick up (see {@link ServerStore.subscribe}).
 *
 * - `client`: a registered client (RFC 7591) was saved or deleted: drop any cached copy of it.
 * - `signing-keys`: the shared signing key set changed (a rotation): load it again.
 * - `auth-lock`: a (client, source) pair or a client id reached its failed-authentication limit:
 *   refuse it until `untilMs` without checking credentials. `key` is the limiter's digest.
 */
export type StoreEvent =
  | { readonly type: 'client'; readonly clientId: string }
  | { readonly type: 'signing-keys' }
  | { readonly type: 'auth-lock'; readonly key: string; readonly untilMs: number }

/**
 * A client registered through the registration endpoint (RFC 7591), as the server keeps it: a
 * JSON object whose members the server defines (metadata without clear secrets, hashes of its
 * secrets and registration access token). A store keeps it as it is given and returns an equal
 * copy.
 */
export interface StoredClient {
  /** The `client_id`. */
  readonly client_id: string
  /** Every other member, JSON values only. */
  readonly [member: string]: unknown
}

/** One signing key of a {@link StoredSigningKeys} set. */
export interface StoredSigningKey {
  /**
   * The private JWK, with `kid` and `alg`. A store that leaves the process (Redis) must encrypt it
   * at rest and return it decrypted.
   */
  readonly jwk: JWK
  /** When the key became current (epoch ms); absent for the next key. */
  readonly activatedAtMs?: number
  /** When a replaced key stops being published (epoch ms); absent for the current and next keys. */
  readonly retainUntilMs?: number
}

/**
 * The signing keys shared by every instance of a server: the current key, the next key (published
 * ahead of use) and the replaced keys still published.
 */
export interface StoredSigningKeys {
  /** Raised by one on every change: 1 for the first set saved. A compare-and-set token. */
  readonly version: number
  /** The key that signs new tokens. */
  readonly current: StoredSigningKey
  /** The key the next rotation makes current; already published. */
  readonly next: StoredSigningKey
  /** Replaced keys still published, newest first. */
  readonly retired: readonly StoredSigningKey[]
}

/** The count {@link ServerStore.countFailure} answers. */
export interface FailureCount {
  /** Failures counted in the window so far, this one included. */
  readonly failures: number
  /** When the window (opened by its first failure) closes, epoch ms. */
  readonly windowEndsAtMs: number
}

/**
 * Storage of server state. Every entry carries its expiry (epoch ms); a store may drop it after
 * that time and must not return it after that time.
 *
 * Revoked `jti`s and one-time values (used assertion and DPoP proof `jti`s) are replay
 * protection: a store must never forget one before its expiry (to make room or otherwise), or the
 * revoked token, used assertion or used proof would be accepted again. A store that cannot record one without forgetting another answers
 * {@link StoreFull} instead, and the server answers 503 with `Retry-After`.
 */
export interface ServerStore {
  /** Keeps an opaque token's claims under the SHA-256 hash (base64url) of the token. */
  saveOpaqueToken(tokenHash: string, claims: StoredTokenClaims, expiresAtMs: number): Promise<void>
  /** The claims of a live opaque token, by hash. */
  findOpaqueToken(tokenHash: string): Promise<StoredTokenClaims | undefined>
  /** Forgets an opaque token (revocation). */
  deleteOpaqueToken(tokenHash: string): Promise<void>
  /**
   * Marks a JWT access token's `jti` revoked until the token would have expired anyway; or, when
   * the store is full of live entries, records nothing and says until when.
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: void keeps stores written before StoreFull valid.
  revokeJti(jti: string, expiresAtMs: number): Promise<void | StoreFull>
  /** Whether a JWT access token's `jti` was revoked. */
  isJtiRevoked(jti: string): Promise<boolean>
  /**
   * Spends a one-time value: records `key` until `expiresAtMs` unless it is already recorded (an
   * atomic insert-if-absent: one `SET key NX PX` in Redis). `key` is a fixed-size digest the server
   * makes of what must not repeat (a client assertion's client id and `jti`; a DPoP proof's key
   * thumbprint and `jti`), and `use` says which, so that a store may keep each apart.
   *
   * @returns `true` when `key` was new and is now recorded; `false` when it was already recorded
   *   (a replay, whether the store is full or not); {@link StoreFull} when it is new but the store
   *   is full of live entries for `use`.
   */
  useOnce(use: OneTimeUse, key: string, expiresAtMs: number): Promise<boolean | StoreFull>
  /**
   * Saves a registered client (RFC 7591), replacing any under its `client_id`; or, when the store
   * holds as many registrations as it allows, saves nothing and answers {@link StoreFull}.
   * Registrations do not expire: they stay until {@link ServerStore.deleteClient}.
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: a store with room answers nothing.
  saveClient(client: StoredClient): Promise<void | StoreFull>
  /**
   * Replaces the registered client `current` (as {@link ServerStore.findClient} returned it) with
   * `next`, which has the same `client_id`, if the store still holds `current` unchanged: an
   * atomic compare-and-set, so that of two changes made from one reading only the first is saved,
   * and a client deleted meanwhile is not brought back.
   *
   * @returns `true` when replaced; `false` when the client was changed or deleted since (read it
   *   again).
   */
  replaceClient(current: StoredClient, next: StoredClient): Promise<boolean>
  /** A registered client by `client_id`, or `undefined`. */
  findClient(clientId: string): Promise<StoredClient | undefined>
  /** Deletes a registered client; `true` when there was one. */
  deleteClient(clientId: string): Promise<boolean>
  /** The signing keys shared by every instance on this store, or `undefined` before any was saved. */
  loadSigningKeys(): Promise<StoredSigningKeys | undefined>
  /**
   * Saves `keys` if the stored set is still the one `keys` replaces (its version is
   * `keys.version - 1`, or no set is stored when `keys.version` is 1): an atomic compare-and-set,
   * so that of two instances rotating at once exactly one wins.
   *
   * @returns `true` when saved; `false` when another instance saved a set first (load it again).
   */
  saveSigningKeys(keys: StoredSigningKeys): Promise<boolean>
  /**
   * Counts one failed client authentication under `key` (a fixed-size digest) in a fixed window
   * that its first failure opens and that lasts `windowMs`; the count expires with the window.
   */
  countFailure(key: string, windowMs: number): Promise<FailureCount>
  /**
   * Tells every instance subscribed to this store, this one included, of a change. Delivery is
   * best effort: an instance also reloads what it caches on its own (see each event).
   */
  publish(event: StoreEvent): Promise<void>
  /**
   * Calls `listener` with every event published on this store by any instance, until the returned
   * function is called. A listener that throws is not called again for that event and does not
   * stop the others.
   */
  subscribe(listener: (event: StoreEvent) => void): () => void
  /** Resolves when the store answers; rejects when it cannot be reached (the server's `/readyz`). */
  ping(): Promise<void>
}

/** Longest key {@link MemoryServerStore.useOnce} keeps as given: a base64url SHA-256 digest. */
const MAX_RAW_KEY_LENGTH = 43

/** Bounds of {@link MemoryServerStore}. */
export interface MemoryServerStoreOptions {
  /** Most opaque tokens kept; the least recently used live one is dropped beyond it. Default 100 000. */
  maxOpaqueTokens?: number
  /**
   * Most revoked `jti`s kept. None is forgotten before its token expires: when all are live,
   * revocation of a JWT answers 503 with `Retry-After` until the earliest expires. Default 100 000.
   */
  maxRevokedJtis?: number
  /**
   * Most used client-assertion `jti`s kept (each as a 43-character digest of client id and `jti`).
   * None is forgotten before its assertion expires: when all are live, a new assertion is answered
   * 503 `temporarily_unavailable` with `Retry-After` until the earliest expires. Default 100 000.
   */
  maxAssertionJtis?: number
  /**
   * Most used DPoP proof `jti`s kept (each as a 43-character digest of key thumbprint and `jti`),
   * each until its proof is too old to be accepted (`dpop.iatWindowSec` + 1 s after its `iat`).
   * None is forgotten before: when all are live, a token request with a new proof is answered 503
   * `temporarily_unavailable` with `Retry-After`. Default 100 000.
   */
  maxDpopJtis?: number
  /**
   * Most clients registered through the registration endpoint. Beyond it, a registration is
   * answered 503 `temporarily_unavailable` until one is deleted. Default 10 000.
   */
  maxRegisteredClients?: number
  /**
   * Most failed-authentication windows counted at once; the least recently used is forgotten
   * beyond it (which only forgets a partial count). Default 10 000.
   */
  maxFailureWindows?: number
  /**
   * The clock entries expire on, epoch ms. Default `Date.now`. Give it the server's `now` when
   * the server is configured with one.
   */
  now?: () => number
}

/**
 * The default {@link ServerStore}: bounded tables in this process, each entry with its own TTL.
 * Opaque tokens live in an LRU (dropping one only makes that token inactive early); revoked
 * `jti`s and one-time values are never dropped before they expire.
 */
export class MemoryServerStore implements ServerStore {
  readonly #opaque: LRUCache<string, StoredTokenClaims>
  readonly #revoked: LiveEntrySet
  readonly #oneTime: Readonly<Record<OneTimeUse, LiveEntrySet>>
  readonly #now: () => number
  readonly #clients = new Map<string, string>()
  readonly #maxClients: number
  /** The key set as JSON, so that no caller shares objects with the store. */
  #signingKeys: string | undefined
  readonly #failures: LRUCache<string, { failures: number; windowEndsAtMs: number }>
  readonly #listeners = new Set<(event: StoreEvent) => void>()

  constructor(options: MemoryServerStoreOptions = {}) {
    this.#now = options.now ?? Date.now
    const clock = lruClock(this.#now)
    this.#opaque = new LRUCache({
      ...lruCapacity(options.maxOpaqueTokens ?? 100_000),
      ttlAutopurge: false,
      ...clock,
    })
    this.#revoked = new LiveEntrySet(options.maxRevokedJtis ?? 100_000, this.#now)
    this.#oneTime = {
      'client-assertion': new LiveEntrySet(options.maxAssertionJtis ?? 100_000, this.#now),
      'dpop-proof': new LiveEntrySet(options.maxDpopJtis ?? 100_000, this.#now),
    }
    this.#maxClients = options.maxRegisteredClients ?? 10_000
    this.#failures = new LRUCache({ ...lruCapacity(options.maxFailureWindows ?? 10_000), ...clock })
  }

  /** Milliseconds from now until `expiresAtMs`, at least 1 (lru-cache reads a TTL of 0 as none). */
  #ttlUntil(expiresAtMs: number): number {
    return Math.max(1, Math.ceil(expiresAtMs - this.#now()))
  }

  async saveOpaqueToken(tokenHash: string, claims: StoredTokenClaims, expiresAtMs: number): Promise<void> {
    this.#opaque.set(tokenHash, claims, { ttl: this.#ttlUntil(expiresAtMs) })
  }

  async findOpaqueToken(tokenHash: string): Promise<StoredTokenClaims | undefined> {
    return this.#opaque.get(tokenHash)
  }

  async deleteOpaqueToken(tokenHash: string): Promise<void> {
    this.#opaque.delete(tokenHash)
  }

  async revokeJti(jti: string, expiresAtMs: number): Promise<StoreFull | undefined> {
    // The jti of a token this server signed: its own fixed-size value, no digest needed.
    return this.#revoked.add(jti, expiresAtMs)
  }

  async isJtiRevoked(jti: string): Promise<boolean> {
    return this.#revoked.has(jti)
  }

  async useOnce(use: OneTimeUse, key: string, expiresAtMs: number): Promise<boolean | StoreFull> {
    if (!Object.hasOwn(this.#oneTime, use)) throw new TypeError('useOnce: unknown use')
    const entries = this.#oneTime[use]
    // The server hands in 43-character digests; anything longer is digested, so that an entry's
    // memory stays fixed whoever calls.
    const fixed = key.length > MAX_RAW_KEY_LENGTH ? keyDigest(key) : key
    if (entries.has(fixed)) return false
    return entries.add(fixed, expiresAtMs) ?? true
  }

  async saveClient(client: StoredClient): Promise<StoreFull | undefined> {
    if (!this.#clients.has(client.client_id) && this.#clients.size >= this.#maxClients) {
      // Registrations never expire, so room comes only from a deletion: retry after a while.
      return { fullUntilMs: this.#now() + 60_000 }
    }
    this.#clients.set(client.client_id, JSON.stringify(client))
    return undefined
  }

  async replaceClient(current: StoredClient, next: StoredClient): Promise<boolean> {
    if (next.client_id !== current.client_id) throw new TypeError('replaceClient: client_id must not change')
    // findClient returns JSON.parse of what is kept, so an unchanged client stringifies the same.
    if (this.#clients.get(current.client_id) !== JSON.stringify(current)) return false
    this.#clients.set(next.client_id, JSON.stringify(next))
    return true
  }

  async findClient(clientId: string): Promise<StoredClient | undefined> {
    const json = this.#clients.get(clientId)
    return json === undefined ? undefined : (JSON.parse(json) as StoredClient)
  }

  async deleteClient(clientId: string): Promise<boolean> {
    return this.#clients.delete(clientId)
  }

  async loadSigningKeys(): Promise<StoredSigningKeys | undefined> {
    return this.#signingKeys === undefined ? undefined : (JSON.parse(this.#signingKeys) as StoredSigningKeys)
  }

  async saveSigningKeys(keys: StoredSigningKeys): Promise<boolean> {
    const storedVersion =
      this.#signingKeys === undefined ? 0 : (JSON.parse(this.#signingKeys) as StoredSigningKeys).version
    if (keys.version !== storedVersion + 1) return false
    this.#signingKeys = JSON.stringify(keys)
    return true
  }

  async countFailure(key: string, windowMs: number): Promise<FailureCount> {
    const window = this.#failures.get(key)
    if (window === undefined) {
      const opened = { failures: 1, windowEndsAtMs: this.#now() + windowMs }
      this.#failures.set(key, opened, { ttl: Math.max(1, windowMs) })
      return { ...opened }
    }
    // Mutated in place, not set again: the entry's TTL keeps counting from the first failure.
    window.failures++
    return { ...window }
  }

  async publish(event: StoreEvent): Promise<void> {
    // Delivered on a later tick, as a shared store would: a publisher never sees its own event
    // in the middle of the change it announces.
    const copy = structuredClone(event)
    for (const listener of this.#listeners) {
      queueMicrotask(() => {
        try {
          listener(copy)
        } catch {
          // One failing listener must not keep the event from the others.
        }
      })
    }
  }

  subscribe(listener: (event: StoreEvent) => void): () => void {
    // A wrapper per subscription, so that one listener subscribed twice is called twice.
    const subscription = (event: StoreEvent) => listener(event)
    this.#listeners.add(subscription)
    return () => {
      this.#listeners.delete(subscription)
    }
  }

  async ping(): Promise<void> {}
}
