/**
 * Client secrets at rest: a keyed fast hash (HMAC-SHA-256 of the secret's SHA-256 digest, keyed
 * with a random per-server key), compared in constant time. A precomputed SHA-256 digest from the
 * configuration goes through the same HMAC, so clear and precomputed secrets are checked alike.
 *
 * @module secret-hash
 */
import { createHmac, hash, randomBytes, timingSafeEqual } from 'node:crypto'

/** The base64url SHA-256 digest of a secret: the form `client_secret_hash` takes in the configuration. */
export function secretDigest(secret: string): string {
  return hash('sha256', secret, 'base64url')
}

/** Hashes and checks client secrets with one per-server random key. */
export class SecretHasher {
  readonly #key: Buffer
  /** Compared against when the client is unknown, so that the answer takes the same time. */
  readonly #dummy: readonly Buffer[]

  /** @param key The HMAC key. Default: 32 random bytes, new for every server instance. */
  constructor(key: Buffer = randomBytes(32)) {
    this.#key = key
    this.#dummy = [this.hashSecret(randomBytes(32).toString('base64url'))]
  }

  /** The stored form of a clear secret. */
  hashSecret(secret: string): Buffer {
    // One-shot `hash` (Node >= 20.12): this runs on every secret-authenticated request.
    return this.hashDigest(hash('sha256', secret, 'buffer'))
  }

  /** The stored form of a secret given as its SHA-256 digest. */
  hashDigest(sha256Digest: Buffer): Buffer {
    return createHmac('sha256', this.#key).update(sha256Digest).digest()
  }

  /**
   * Whether `presented` matches one of `stored`. Every stored hash is compared, in constant time,
   * and an unknown client (`stored` undefined) costs the same as a known one.
   */
  matches(presented: string, stored: readonly Buffer[] | undefined): boolean {
    const candidate = this.hashSecret(presented)
    let matched = false
    for (const storedHash of stored ?? this.#dummy) {
      // The comparison runs before `||`: every stored hash is compared whichever one matches.
      matched = timingSafeEqual(candidate, storedHash) || matched
    }
    return matched && stored !== undefined
  }
}
