/**
 * The verification keys and allowed algorithms of one issuer: its JWKS cache, found through
 * discovery unless `jwksUri` was given, and the algorithm allowlist, from the options or the
 * issuer's metadata.
 *
 * @module issuer-keys
 */
import {
  InvalidTokenError,
  JwksCache,
  type JwksCacheOptions,
  JwksNoMatchingKeyError,
  TemporarilyUnavailableError,
} from '@oauth-m2m/core'
import { abortable } from '@oauth-m2m/core/internal'
import type { JWK } from 'jose'
import { defaultAlgorithms, type JwsAlgorithm, SUPPORTED_ALGORITHMS } from './algorithms.js'
import type { IssuerMetadata } from './issuer-metadata.js'

/** The JWS header members that select a key. */
export interface JwsKeyHint {
  kid?: string | undefined
  alg?: string | undefined
}

/** Where keys are looked up by header: a JWKS cache, or a static key set. */
export interface KeySource {
  /**
   * @throws {JwksNoMatchingKeyError} when no key fits the header.
   * @throws {JwksUnavailableError} when no key set can be had.
   */
  getKey(header: JwsKeyHint): Promise<JWK>
}

/** Keys and algorithms, once known. */
export interface ResolvedKeys {
  keys: KeySource
  algorithms: ReadonlySet<JwsAlgorithm>
}

/** Options of {@link IssuerKeys}. */
export interface IssuerKeysOptions {
  /** Keys to use instead of discovering the issuer's `jwks_uri`: a JWKS cache or a static set. */
  jwks?: KeySource | undefined
  /** Options of a JWKS cache created after discovery. */
  jwksOptions: JwksCacheOptions
  /** An explicit allowlist; otherwise derived from the metadata (see `defaultAlgorithms`). */
  algorithms?: ReadonlySet<JwsAlgorithm> | undefined
}

/** Where the keys of one issuer come from. */
export class IssuerKeys {
  readonly #metadata: IssuerMetadata
  readonly #options: IssuerKeysOptions
  /** Set once known, so that the hot path does not await anything for it. */
  resolved: ResolvedKeys | undefined

  constructor(metadata: IssuerMetadata, options: IssuerKeysOptions) {
    this.#metadata = metadata
    this.#options = options
    if (options.jwks) {
      // With an explicit JWKS URI or static keys nothing needs discovering: the default allowlist is every
      // supported asymmetric algorithm, the key type still pinning the family.
      this.resolved = { keys: options.jwks, algorithms: options.algorithms ?? new Set(SUPPORTED_ALGORITHMS) }
    }
  }

  /**
   * The issuer's keys and allowlist, discovering them on first use.
   *
   * @throws {TemporarilyUnavailableError} when discovery fails.
   */
  async resolve(signal?: AbortSignal): Promise<ResolvedKeys> {
    if (this.resolved) return this.resolved
    const metadata = await abortable(this.#metadata.get(), signal)
    const jwksUri = await this.#metadata.endpoint('jwks_uri')
    let keys: JwksCache
    try {
      keys = new JwksCache(jwksUri, this.#options.jwksOptions)
    } catch (cause) {
      // The issuer published a jwks_uri that is not an http(s) URL: no token of it can be checked.
      throw new TemporarilyUnavailableError("the issuer's jwks_uri is not usable", { cause })
    }
    this.resolved ??= { keys, algorithms: this.#options.algorithms ?? defaultAlgorithms(metadata) }
    return this.resolved
  }
}

/**
 * The issuer's key for a token header, with the JWKS cache's failures turned into what a resource
 * server answers: no such key is the token's fault (401), no key set at all is not (503).
 */
export async function keyForHeader(
  keys: KeySource,
  header: { kid: string | undefined; alg: string },
  signal: AbortSignal | undefined,
): Promise<JWK> {
  try {
    return await abortable(keys.getKey(header), signal)
  } catch (cause) {
    if (signal?.aborted && cause === signal.reason) throw cause
    if (cause instanceof JwksNoMatchingKeyError) {
      throw new InvalidTokenError('no key of the issuer matches the token\'s "kid" and "alg"', { cause })
    }
    throw new TemporarilyUnavailableError("the issuer's keys could not be fetched", { cause })
  }
}
