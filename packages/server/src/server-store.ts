/**
 * Server-side state: opaque tokens (by hash), revoked JWT ids and used client-assertion ids. The
 * endpoints see only the {@link ServerStore} interface, so a shared store (Redis, SQL) can replace
 * the in-memory default without touching them.
 *
 * @module server-store
 */
import { LRUCache } from 'lru-cache'
import { lruClock } from './lru-clock.js'

/** What the server remembers about an opaque access token; also the introspection answer. */
export interface StoredTokenClaims {
  /** The issuer. */
  iss: string
  /** The client id, as the token's subject. */
  sub: string
  /** The client the token was issued to. */
  client_id: string
  /** The audience: one resource, or several. */
  aud: string | string[]
  /** The granted scope, space-separated. */
  scope: string
  /** Issued at, epoch seconds. */
  iat: number
  /** Expiry, epoch seconds. */
  exp: number
  /** The token's unique id. */
  jti: string
}

/**
 * Storage of server state. Every entry carries its expiry (epoch ms); a store may drop it after
 * that time and must not return it after that time.
 */
export interface ServerStore {
  /** Keeps an opaque token's claims under the SHA-256 hash (base64url) of the token. */
  saveOpaqueToken(tokenHash: string, claims: StoredTokenClaims, expiresAtMs: number): Promise<void>
  /** The claims of a live opaque token, by hash. */
  findOpaqueToken(tokenHash: string): Promise<StoredTokenClaims | undefined>
  /** Forgets an opaque token (revocation). */
  deleteOpaqueToken(tokenHash: string): Promise<void>
  /** Marks a JWT access token's `jti` revoked until the token would have expired anyway. */
  revokeJti(jti: string, expiresAtMs: number): Promise<void>
  /** Whether a JWT access token's `jti` was revoked. */
  isJtiRevoked(jti: string): Promise<boolean>
  /**
   * Records a client assertion's `jti` (scoped by client) until the assertion expires. Returns
   * `false` when it was already recorded: a replay. Must be atomic for a shared store.
   */
  useAssertionJti(clientId: string, jti: string, expiresAtMs: number): Promise<boolean>
}

/** Bounds of {@link MemoryServerStore}. */
export interface MemoryServerStoreOptions {
  /** Most opaque tokens kept; the least recently used live one is dropped beyond it. Default 100 000. */
  maxOpaqueTokens?: number
  /** Most revoked `jti`s kept. Default 100 000. */
  maxRevokedJtis?: number
  /** Most used assertion `jti`s kept. Default 100 000. */
  maxAssertionJtis?: number
  /**
   * The clock entries expire on, epoch ms. Default `Date.now`. Give it the server's `now` when
   * the server is configured with one.
   */
  now?: () => number
}

/** The default {@link ServerStore}: bounded LRU caches in this process, each entry with its own TTL. */
export class MemoryServerStore implements ServerStore {
  readonly #opaque: LRUCache<string, StoredTokenClaims>
  readonly #revoked: LRUCache<string, true>
  readonly #assertions: LRUCache<string, true>
  readonly #now: () => number

  constructor(options: MemoryServerStoreOptions = {}) {
    this.#now = options.now ?? Date.now
    const clock = lruClock(this.#now)
    this.#opaque = new LRUCache({ max: options.maxOpaqueTokens ?? 100_000, ttlAutopurge: false, ...clock })
    this.#revoked = new LRUCache({ max: options.maxRevokedJtis ?? 100_000, ...clock })
    this.#assertions = new LRUCache({ max: options.maxAssertionJtis ?? 100_000, ...clock })
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

  async revokeJti(jti: string, expiresAtMs: number): Promise<void> {
    this.#revoked.set(jti, true, { ttl: this.#ttlUntil(expiresAtMs) })
  }

  async isJtiRevoked(jti: string): Promise<boolean> {
    return this.#revoked.has(jti)
  }

  async useAssertionJti(clientId: string, jti: string, expiresAtMs: number): Promise<boolean> {
    // JSON keeps the pair unambiguous whatever characters the ids hold.
    const key = JSON.stringify([clientId, jti])
    if (this.#assertions.has(key)) return false
    this.#assertions.set(key, true, { ttl: this.#ttlUntil(expiresAtMs) })
    return true
  }
}
