/**
 * The latest `DPoP-Nonce` each server gave (RFC 9449 §8, §9), by origin and kind of server: a
 * proof carries it from then on, so only the first request to a server that wants nonces pays the
 * extra round trip. A nonce is for the server that issued it (§9), and an authorization server and
 * a resource server on one origin issue their own: each kind keeps its own. Bounded (lru-cache):
 * the least recently used are forgotten first.
 *
 * @module dpop/dpop-nonces
 */
import { isDpopNonce } from '@oauth-m2m/core/internal'
import { LRUCache } from 'lru-cache'

/** Which server a nonce is for: the token endpoint (§8) or a resource server (§9). */
export type DpopNonceServer = 'token endpoint' | 'resource'

/** Most origins (times kinds of server) whose nonce is kept. */
export const MAX_DPOP_NONCE_ORIGINS = 1000

/** Longest nonce kept, in characters: RFC 9449 sets no limit, memory does. */
const MAX_NONCE_LENGTH = 1024

/** A `DPoP-Nonce` header value as a nonce, or `undefined` when absent or not of the nonce syntax. */
export function nonceOf(header: string | readonly string[] | null | undefined): string | undefined {
  // One nonce per answer: a repeated header is ambiguous and is ignored.
  if (typeof header !== 'string') return undefined
  return header.length <= MAX_NONCE_LENGTH && isDpopNonce(header) ? header : undefined
}

/** The latest nonce per origin and kind of server. */
export class DpopNonces {
  readonly #byOrigin = new LRUCache<string, string>({ max: MAX_DPOP_NONCE_ORIGINS })

  /** The nonce to send to the `server` at `origin`, if it gave one. */
  get(server: DpopNonceServer, origin: string): string | undefined {
    return this.#byOrigin.get(`${server} ${origin}`)
  }

  /**
   * Keeps the nonce of an answer from the `server` at `origin` when it carries a valid one, and
   * returns it.
   *
   * @param header The answer's `DPoP-Nonce` header.
   */
  remember(
    server: DpopNonceServer,
    origin: string,
    header: string | readonly string[] | null | undefined,
  ): string | undefined {
    const nonce = nonceOf(header)
    if (nonce !== undefined) this.#byOrigin.set(`${server} ${origin}`, nonce)
    return nonce
  }
}
