/**
 * The latest `DPoP-Nonce` each server gave (RFC 9449 §8, §9), by origin: a proof carries it from
 * then on, so only the first request to a server that wants nonces pays the extra round trip.
 * Bounded (lru-cache): the least recently used origins are forgotten first.
 *
 * @module dpop/dpop-nonces
 */
import { LRUCache } from 'lru-cache'

/** Most origins whose nonce is kept. */
export const MAX_DPOP_NONCE_ORIGINS = 1000

/** Longest nonce kept, in characters: RFC 9449 sets no limit, memory does. */
const MAX_NONCE_LENGTH = 1024

/** `nonce = 1*NQCHAR`, NQCHAR = %x21 / %x23-5B / %x5D-7E (RFC 9449 §8.1). */
const NONCE = /^[\x21\x23-\x5B\x5D-\x7E]+$/

/** A `DPoP-Nonce` header value as a nonce, or `undefined` when absent or not of the nonce syntax. */
export function nonceOf(header: string | readonly string[] | null | undefined): string | undefined {
  // One nonce per answer: a repeated header is ambiguous and is ignored.
  if (typeof header !== 'string') return undefined
  return header.length <= MAX_NONCE_LENGTH && NONCE.test(header) ? header : undefined
}

/** The latest nonce per origin. */
export class DpopNonces {
  readonly #byOrigin = new LRUCache<string, string>({ max: MAX_DPOP_NONCE_ORIGINS })

  /** The nonce to send to `origin`, if it gave one. */
  get(origin: string): string | undefined {
    return this.#byOrigin.get(origin)
  }

  /**
   * Keeps the nonce of an answer from `origin` when it carries a valid one, and returns it.
   *
   * @param header The answer's `DPoP-Nonce` header.
   */
  remember(origin: string, header: string | readonly string[] | null | undefined): string | undefined {
    const nonce = nonceOf(header)
    if (nonce !== undefined) this.#byOrigin.set(origin, nonce)
    return nonce
  }
}
