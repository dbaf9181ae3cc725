/**
 * Lazily discovered authorization server metadata (RFC 8414) for one issuer. Concurrent lookups
 * share one discovery, and a failed one is not retried on every verification: calls fail fast for a
 * cooldown and then one probes, so an outage of the metadata endpoint is not met with a request
 * (or a wait for a timeout) per incoming API call.
 *
 * @module issuer-metadata
 */
import { type AuthorizationServerMetadata, discover, TemporarilyUnavailableError } from '@oauth-m2m/core'
import type { Dispatcher } from 'undici'
import { FailureCooldown } from './failure-cooldown.js'

/** Options of {@link IssuerMetadata}. */
export interface IssuerMetadataOptions {
  dispatcher?: Dispatcher | undefined
  /** Time limit of one discovery request, in milliseconds. */
  timeoutMs: number
  /** How long lookups fail fast after a failed discovery, in milliseconds; 0 disables. */
  failureCooldownMs: number
  /** Clock, in epoch milliseconds. Default `Date.now`. */
  now?: (() => number) | undefined
  /** Discovery may use http to a non-loopback issuer (the verifier's `allowInsecureHttp`). */
  allowInsecureHttp?: boolean | undefined
}

/** The metadata of one issuer, fetched on first use through core `discover()`. */
export class IssuerMetadata {
  readonly issuer: string
  readonly #options: IssuerMetadataOptions
  readonly #cooldown: FailureCooldown
  #metadata: AuthorizationServerMetadata | undefined
  /** The lookup in flight, joined by every caller until it settles: one attempt, one error. */
  #lookup: Promise<AuthorizationServerMetadata> | undefined

  constructor(issuer: string, options: IssuerMetadataOptions) {
    this.issuer = issuer
    this.#options = options
    this.#cooldown = new FailureCooldown(
      options.failureCooldownMs,
      "the issuer's metadata endpoint",
      options.now,
    )
  }

  /**
   * The issuer's metadata.
   *
   * @throws {TemporarilyUnavailableError} when it cannot be fetched, or within the failure cooldown
   *   of a failed attempt (with that failure as `cause`): without it no token of this issuer can
   *   be judged, which says nothing about the token.
   */
  get(): Promise<AuthorizationServerMetadata> {
    if (this.#metadata) return Promise.resolve(this.#metadata)
    this.#lookup ??= this.#cooldown
      .run(() => this.#discover())
      .finally(() => {
        this.#lookup = undefined
      })
    return this.#lookup
  }

  /**
   * An endpoint advertised in the metadata.
   *
   * @throws {TemporarilyUnavailableError} when the metadata cannot be fetched or lacks `member`.
   */
  async endpoint(member: 'jwks_uri' | 'introspection_endpoint'): Promise<string> {
    const value = (await this.get())[member]
    if (typeof value !== 'string' || value === '') {
      throw new TemporarilyUnavailableError(`the issuer's metadata has no ${member}`)
    }
    return value
  }

  async #discover(): Promise<AuthorizationServerMetadata> {
    try {
      this.#metadata = await discover(this.issuer, {
        timeoutMs: this.#options.timeoutMs,
        ...(this.#options.dispatcher ? { dispatcher: this.#options.dispatcher } : {}),
        ...(this.#options.now ? { now: this.#options.now } : {}),
        ...(this.#options.allowInsecureHttp === true ? { allowInsecureHttp: true } : {}),
      })
    } catch (cause) {
      throw new TemporarilyUnavailableError("the issuer's metadata could not be fetched", { cause })
    }
    return this.#metadata
  }
}
