/**
 * Lazily discovered authorization server metadata (RFC 8414) for one issuer. A failed discovery
 * is not remembered, so the next verification tries again.
 *
 * @module issuer-metadata
 */
import { type AuthorizationServerMetadata, discover, TemporarilyUnavailableError } from '@oauth-m2m/core'
import type { Dispatcher } from 'undici'

/** Options of {@link IssuerMetadata}. */
export interface IssuerMetadataOptions {
  dispatcher?: Dispatcher | undefined
  timeoutMs: number
}

/** The metadata of one issuer, fetched on first use through core `discover()`. */
export class IssuerMetadata {
  readonly issuer: string
  readonly #options: IssuerMetadataOptions
  #metadata: AuthorizationServerMetadata | undefined

  constructor(issuer: string, options: IssuerMetadataOptions) {
    this.issuer = issuer
    this.#options = options
  }

  /**
   * The issuer's metadata.
   *
   * @throws {TemporarilyUnavailableError} when it cannot be fetched: without it no token of this
   *   issuer can be judged, which says nothing about the token.
   */
  async get(): Promise<AuthorizationServerMetadata> {
    if (this.#metadata) return this.#metadata
    try {
      this.#metadata = await discover(this.issuer, {
        timeoutMs: this.#options.timeoutMs,
        ...(this.#options.dispatcher ? { dispatcher: this.#options.dispatcher } : {}),
      })
    } catch (cause) {
      throw new TemporarilyUnavailableError("the issuer's metadata could not be fetched", { cause })
    }
    return this.#metadata
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
}
