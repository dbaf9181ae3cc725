/**
 * Integrity of the values that grant access: a registered client (its secret hashes) and an opaque
 * token's claims, and of the events between instances. With a key-encryption key, each is stored
 * (or published) behind an HMAC-SHA-256 tag over the Redis key it is stored under (or the channel)
 * and its JSON, with a key derived from the key-encryption key; so whoever can write to Redis, but
 * has not that key, cannot add a client, change a client's secret hash or scope, make an opaque
 * token of their own active, or lock a client out with an event: such a value is refused when read.
 *
 * @module value-seal
 */
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto'

/** Tag length: a full SHA-256, base64url-encoded. */
const TAG_CHARS = 43

/** Seals and opens values under one derived key. */
export class ValueSeal {
  readonly #key: Buffer

  constructor(keyEncryptionKey: Uint8Array) {
    // A key of its own for tags, so the encryption key is never used for two purposes.
    this.#key = Buffer.from(
      hkdfSync('sha256', keyEncryptionKey, new Uint8Array(0), 'oauth-m2m redis value tag', 32),
    )
  }

  #tag(redisKey: string, json: string): string {
    return createHmac('sha256', this.#key).update(redisKey).update('\0').update(json).digest('base64url')
  }

  /** `<tag>.<json>`: what is stored under `redisKey`. */
  seal(redisKey: string, json: string): string {
    return `${this.#tag(redisKey, json)}.${json}`
  }

  /** The JSON sealed under `redisKey`, or `undefined` when the tag is missing or does not match. */
  open(redisKey: string, stored: string): string | undefined {
    if (stored.length <= TAG_CHARS || stored[TAG_CHARS] !== '.') return undefined
    const json = stored.slice(TAG_CHARS + 1)
    const given = Buffer.from(stored.slice(0, TAG_CHARS))
    const expected = Buffer.from(this.#tag(redisKey, json))
    return given.length === expected.length && timingSafeEqual(given, expected) ? json : undefined
  }
}
