/**
 * Scheduled rotation (`signing.rotateEverySec`) of a key set that lives in this process only (the
 * default memory store, or keys configured by the operator): the current key is replaced once it
 * has been current for the period.
 *
 * @module local-key-rotation
 */
import type { SigningKeySet } from './signing-key-set.js'

/** Options of {@link LocalKeyRotation}. */
export interface LocalKeyRotationOptions {
  /** How often the current key is replaced, in milliseconds. */
  rotateEveryMs: number
  /** How often the schedule is checked, in milliseconds (at most `rotateEveryMs`). */
  checkEveryMs: number
  /** The clock, epoch ms. */
  now: () => number
  /** Told when a rotation fails. */
  onError: (error: unknown) => void
}

/** Rotates one process's key set on a schedule. */
export class LocalKeyRotation {
  readonly #keys: SigningKeySet
  readonly #options: LocalKeyRotationOptions
  #timer: NodeJS.Timeout | undefined
  #rotating = false

  constructor(keys: SigningKeySet, options: LocalKeyRotationOptions) {
    this.#keys = keys
    this.#options = options
  }

  /** Rotates when the current key has been current for the period; resolves to whether it did. */
  async rotateIfDue(): Promise<boolean> {
    const activatedAtMs = this.#keys.currentActivatedAtMs
    if (this.#rotating || activatedAtMs === undefined) return false
    if (activatedAtMs + this.#options.rotateEveryMs > this.#options.now()) return false
    this.#rotating = true
    try {
      await this.#keys.rotate()
      return true
    } finally {
      this.#rotating = false
    }
  }

  /** Starts checking the schedule; the timer does not keep the process alive. Idempotent. */
  start(): void {
    if (this.#timer !== undefined) return
    const periodMs = Math.min(this.#options.checkEveryMs, this.#options.rotateEveryMs)
    this.#timer = setInterval(() => {
      this.rotateIfDue().catch((error: unknown) => {
        try {
          this.#options.onError(error)
        } catch {
          // A failing error hook must not become an unhandled rejection.
        }
      })
    }, periodMs)
    this.#timer.unref()
  }

  /** Stops checking. */
  stop(): void {
    clearInterval(this.#timer)
    this.#timer = undefined
  }
}
