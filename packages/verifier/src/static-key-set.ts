/**
 * A key set given in the options (`jwks: { keys }`): the keys of an issuer whose JWKS is not
 * fetched, e.g. in an air-gapped deployment or a test. Nothing is ever fetched.
 *
 * @module static-key-set
 */
import { JwksNoMatchingKeyError } from '@oauth-m2m/core'
import { selectJwk } from '@oauth-m2m/core/internal'
import type { JWK } from 'jose'
import type { JwsKeyHint, KeySource } from './issuer-keys.js'

/** Keys known up front, chosen for a token the way the JWKS cache chooses them. */
export class StaticKeySet implements KeySource {
  readonly #keys: readonly JWK[]

  /** @param keys - public signing keys, already validated (see `resolveVerifierOptions`). */
  constructor(keys: readonly JWK[]) {
    this.#keys = keys
  }

  /**
   * The one key that fits the header (by `kid`, and `alg`).
   *
   * @throws {JwksNoMatchingKeyError} when no key, or more than one, fits.
   */
  async getKey(header: JwsKeyHint): Promise<JWK> {
    const selection = selectJwk(this.#keys, header)
    if (selection.key) return selection.key
    throw new JwksNoMatchingKeyError(
      `${selection.problem === 'ambiguous' ? 'several keys' : 'no key'} of the static key set match the token's "kid" and "alg"`,
    )
  }
}
