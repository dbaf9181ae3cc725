/**
 * The `DPoP` header of a token request (RFC 9449 §5): at most one, checked by core's
 * `verifyDpopProof` (every §4.3 rule but replay) against the token endpoint's URL, its `jti`
 * spent once in the `ServerStore`, and the server's nonces (§8) when they are on.
 *
 * @module token-request-dpop
 */
import { InvalidDpopProofError, UseDpopNonceError } from '@oauth-m2m/core'
import {
  dpopReplayExpiresAtMs,
  RotatingNonce,
  type VerifiedDpopProof,
  verifyDpopProof,
} from '@oauth-m2m/core/internal'
import type { RegisteredClient } from './client-registry.js'
import type { DpopSettings } from './dpop-settings.js'
import { type EndpointResponse, oauthError, temporarilyUnavailable } from './http-response.js'
import { keyDigest } from './key-digest.js'
import type { ServerStore } from './server-store.js'

/** What {@link TokenRequestDpop} needs. */
export interface TokenRequestDpopOptions {
  /** The token endpoint URL the proof's `htu` must name (the configured `endpoints.token`, if any). */
  url: string
  settings: DpopSettings
  store: ServerStore
  /** The server's clock, epoch ms. */
  now: () => number
}

/**
 * What the `DPoP` header of a request comes to: a verified proof, no proof (none sent, or DPoP is
 * disabled), or the error to answer with.
 */
export type DpopHeaderResult =
  | { proof: VerifiedDpopProof; error?: undefined }
  | { proof?: undefined; error?: undefined }
  | { proof?: undefined; error: EndpointResponse }

const NO_PROOF: DpopHeaderResult = Object.freeze({})

/** DPoP at the token endpoint of one issuer. */
export class TokenRequestDpop {
  readonly #options: TokenRequestDpopOptions
  readonly #algorithms: ReadonlySet<string>
  readonly #nonces: RotatingNonce | undefined
  readonly #checkNonce: ((nonce: string | undefined) => boolean) | undefined

  constructor(options: TokenRequestDpopOptions) {
    this.#options = options
    const { settings, now } = options
    this.#algorithms = new Set(settings.algorithms)
    if (settings.nonce !== undefined) {
      const nonces = new RotatingNonce({
        secret: settings.nonce.secret,
        windowSec: settings.nonce.windowSec,
        now,
        // Apart from a resource server's nonces made with the same secret.
        context: 'token-endpoint',
      })
      this.#nonces = nonces
      this.#checkNonce = (nonce) => nonces.accepts(nonce)
    }
  }

  /**
   * Reads and checks the `DPoP` headers of a request (all of them, as received; a web `Headers`
   * object has joined repeats with ", ", which no compact JWS holds).
   */
  read(headers: readonly string[]): DpopHeaderResult {
    const { settings, url, now } = this.#options
    if (settings.mode === 'disabled' || headers.length === 0) return NO_PROOF
    if (headers.length > 1 || headers[0]!.includes(',')) {
      return { error: invalidProof('the request holds more than one DPoP header') }
    }
    try {
      const proof = verifyDpopProof(headers[0], {
        method: 'POST',
        url,
        algorithms: this.#algorithms,
        nowSec: now() / 1000,
        iatWindowSec: settings.iatWindowSec,
        nonce: this.#checkNonce,
      })
      return { proof }
    } catch (error) {
      if (error instanceof UseDpopNonceError) {
        return {
          error: oauthError(400, 'use_dpop_nonce', error.message, { 'dpop-nonce': this.#nonces!.current() }),
        }
      }
      if (error instanceof InvalidDpopProofError) return { error: invalidProof(error.message) }
      throw error
    }
  }

  /**
   * The answer to a request of `client` that came without a proof, when it needed one: under
   * `mode: 'required'`, or for a client registered with `dpop_bound_access_tokens` (RFC 9449 §5.2
   * says the request MUST be refused and names no error code; the missing proof is an invalid
   * one, §5, as oidc-provider's `invalid_grant` would not tell the client what to fix).
   */
  missing(client: RegisteredClient): EndpointResponse | undefined {
    const { mode } = this.#options.settings
    if (mode === 'required') return invalidProof('this server requires a DPoP proof with every token request')
    if (client.dpopBound) return invalidProof('this client must send a DPoP proof with its token requests')
    return undefined
  }

  /**
   * Spends the proof's `jti` (RFC 9449 §11.1) for as long as the proof could be accepted: until
   * its `iat` is `iatWindowSec` old, plus the second `verifyDpopProof` rounds down. Scoped by the
   * key's thumbprint, so that no key can spend another's `jti`.
   */
  async spend(proof: VerifiedDpopProof): Promise<EndpointResponse | undefined> {
    const { store, settings, now } = this.#options
    const expiresAtMs = dpopReplayExpiresAtMs(proof.iatSec, settings.iatWindowSec)
    const fresh = await store.useOnce('dpop-proof', keyDigest(proof.jkt, proof.jti), expiresAtMs)
    if (fresh === true) return undefined
    if (fresh === false) return invalidProof('the DPoP proof was already used (jti replay)')
    return temporarilyUnavailable('the server cannot record more DPoP proofs now', fresh.fullUntilMs, now())
  }

  /** Headers of a successful token answer: the current nonce, when nonces are on (RFC 9449 §8). */
  answerHeaders(): Record<string, string> | undefined {
    return this.#nonces === undefined ? undefined : { 'dpop-nonce': this.#nonces.current() }
  }
}

function invalidProof(description: string): EndpointResponse {
  return oauthError(400, 'invalid_dpop_proof', description)
}
