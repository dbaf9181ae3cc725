/**
 * Server-provided DPoP nonces (RFC 9449 §8, §9) that need no shared state: the nonce is an HMAC of
 * the current time window, so every instance holding the same secret gives and accepts the same
 * nonces, and a nonce ages out by itself.
 *
 * @module dpop/rotating-nonce
 */
import { createHmac, randomBytes } from 'node:crypto'

/** Default `windowSec` of a rotating DPoP nonce: how long one time window lasts, in seconds. */
export const DEFAULT_DPOP_NONCE_WINDOW_SEC = 60

/** Shortest secret accepted, in bytes: the HMAC-SHA256 key length RFC 2104 §3 recommends. */
export const MIN_DPOP_NONCE_SECRET_BYTES = 32

/** Options of {@link RotatingNonce}. */
export interface RotatingNonceOptions {
  /**
   * The HMAC key, at least 32 bytes (a string counts its UTF-8 bytes). Give every instance of a
   * fleet the same one so they accept each other's nonces. Default: 32 random bytes, for one
   * process alone.
   */
  secret?: string | Uint8Array | undefined
  /**
   * Length of a window, in seconds. A nonce is accepted in its window and the next, so between
   * `windowSec` and twice that after it was given out. Default 60.
   */
  windowSec?: number | undefined
  /** The clock, epoch milliseconds. Default `Date.now`. */
  now?: (() => number) | undefined
  /** Separates the nonces of different uses of one secret (a token endpoint, a resource). Default `''`. */
  context?: string | undefined
}

/**
 * A source of rotating nonces: {@link RotatingNonce.current} to hand out (`DPoP-Nonce`),
 * {@link RotatingNonce.accepts} to judge the one a proof carries.
 */
export class RotatingNonce {
  readonly #secret: Uint8Array
  readonly #windowMs: number
  readonly #now: () => number
  readonly #context: string
  #window = Number.NaN
  #currentNonce = ''
  #previousNonce = ''

  /** @throws {TypeError} a secret shorter than 32 bytes, or a window that is not a positive number. */
  constructor(options: RotatingNonceOptions = {}) {
    const secret =
      options.secret === undefined
        ? randomBytes(MIN_DPOP_NONCE_SECRET_BYTES)
        : typeof options.secret === 'string'
          ? Buffer.from(options.secret, 'utf8')
          : Uint8Array.from(options.secret)
    if (!(secret instanceof Uint8Array) || secret.length < MIN_DPOP_NONCE_SECRET_BYTES) {
      throw new TypeError(`the DPoP nonce secret must have at least ${MIN_DPOP_NONCE_SECRET_BYTES} bytes`)
    }
    const windowSec = options.windowSec ?? DEFAULT_DPOP_NONCE_WINDOW_SEC
    if (typeof windowSec !== 'number' || !Number.isFinite(windowSec) || windowSec <= 0) {
      throw new TypeError('the DPoP nonce windowSec must be a positive number')
    }
    this.#secret = secret
    this.#windowMs = windowSec * 1000
    this.#now = options.now ?? Date.now
    this.#context = options.context ?? ''
  }

  /** The nonce to hand out now. */
  current(): string {
    this.#advance()
    return this.#currentNonce
  }

  /** Whether `nonce` is the nonce of this window or of the one before. */
  accepts(nonce: string | undefined): boolean {
    if (typeof nonce !== 'string') return false
    this.#advance()
    return nonce === this.#currentNonce || nonce === this.#previousNonce
  }

  #advance(): void {
    const window = Math.floor(this.#now() / this.#windowMs)
    if (window === this.#window) return
    // The nonce of the window that just ended is reused when it was the current one.
    this.#previousNonce = window - 1 === this.#window ? this.#currentNonce : this.#nonceOf(window - 1)
    this.#currentNonce = this.#nonceOf(window)
    this.#window = window
  }

  #nonceOf(window: number): string {
    // 128 bits of the MAC: unguessable, and short enough for a header.
    return createHmac('sha256', this.#secret)
      .update(`oauth-m2m dpop-nonce ${this.#context} ${window}`)
      .digest()
      .subarray(0, 16)
      .toString('base64url')
  }
}
