/**
 * Remembers, per cache key, that the authorization server answered 429 or 503 with
 * `Retry-After`, so that until that time new token requests for the key fail fast (or the still
 * valid cached token is served) instead of hammering a server that asked for a pause.
 *
 * @module backoff-gate
 */
import { LRUCache } from 'lru-cache'

/** Why and how long a key is held back. */
export interface Backoff {
  /** Milliseconds left. */
  remainingMs: number
  /** The answer that asked for the pause. */
  cause: Error
}

/** Per-key "not before" times, bounded like every cache here. */
export class BackoffGate {
  readonly #until: LRUCache<string, { untilMs: number; cause: Error }>

  constructor(maxEntries: number) {
    this.#until = new LRUCache({ max: maxEntries })
  }

  /** Holds `key` back until `untilMs` (epoch ms), unless it already is held back longer. */
  block(key: string, untilMs: number, cause: Error): void {
    const current = this.#until.get(key)
    if (current === undefined || current.untilMs < untilMs) this.#until.set(key, { untilMs, cause })
  }

  /** The pause `key` is in at `nowMs`, or `undefined` when it is free. */
  check(key: string, nowMs: number): Backoff | undefined {
    const entry = this.#until.get(key)
    if (entry === undefined) return undefined
    if (entry.untilMs <= nowMs) {
      this.#until.delete(key)
      return undefined
    }
    return { remainingMs: entry.untilMs - nowMs, cause: entry.cause }
  }

  /** Frees `key`, e.g. after a successful request. */
  clear(key: string): void {
    this.#until.delete(key)
  }

  /** Frees every key. */
  clearAll(): void {
    this.#until.clear()
  }
}
