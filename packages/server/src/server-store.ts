/**
 * Server-side state: opaque tokens (by hash), revoked JWT ids and used client-assertion ids. The
 * endpoints see only the {@link ServerStore} interface, so a shared store (Redis, SQL) can replace
 * the in-memory default without touching them.
 *
 * @module server-store
 */
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
}
