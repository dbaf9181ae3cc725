/**
 * One request per key at a time: concurrent callers of a key share the promise of the request in
 * flight. A settled request is forgotten at once, so a failure reaches every caller that waited
 * for it and is never served to a later one.
 *
 * @module single-flight
 */

/** Shares one in-flight promise per key. */
export class SingleFlight<T> {
  readonly #inFlight = new Map<string, Promise<T>>()

  /** Whether a request for `key` is in flight. */
  has(key: string): boolean {
    return this.#inFlight.has(key)
  }

  /**
   * The in-flight promise for `key`, or a new one from `start()`. The returned promise never
   * causes an unhandled rejection by itself: a background caller may drop it.
   */
  run(key: string, start: () => Promise<T>): Promise<T> {
    const existing = this.#inFlight.get(key)
    if (existing !== undefined) return existing
    let promise: Promise<T>
    try {
      promise = start()
    } catch (err) {
      promise = Promise.reject(err)
    }
    const shared = promise.finally(() => {
      if (this.#inFlight.get(key) === shared) this.#inFlight.delete(key)
    })
    shared.catch(() => {})
    this.#inFlight.set(key, shared)
    return shared
  }

  /** The promises in flight, e.g. to wait for them to settle on close. */
  pending(): Promise<T>[] {
    return [...this.#inFlight.values()]
  }
}
