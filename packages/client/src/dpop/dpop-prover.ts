/**
 * A DPoP client's state (RFC 9449): its key's proof signer, the latest nonce per server, and
 * whether a Bearer token is acceptable when the server does not bind one. The token request and
 * the resource requests (`client.fetch`, the interceptor) share one, so a nonce learnt from any
 * answer is used by the next proof for that server (origin and kind).
 *
 * @module dpop/dpop-prover
 */
import type { DpopKey } from './dpop-key.js'
import { type DpopNonceServer, DpopNonces } from './dpop-nonces.js'
import { DpopProofSigner } from './dpop-proof.js'

/** How a {@link DpopProver} behaves. */
export interface DpopProverSettings {
  /** Clock for the proofs' `iat`, epoch ms. */
  now: () => number
  /** Accept a Bearer token from a server that does not bind tokens (the `dpop.allowBearerFallback` option). */
  allowBearerFallback: boolean
}

/** Proofs and nonces of one DPoP client. */
export class DpopProver {
  /** RFC 7638 thumbprint of the key: part of the cache key, and the bound token's `cnf.jkt`. */
  readonly jkt: string
  /** Whether a Bearer token answer is accepted. */
  readonly allowBearerFallback: boolean
  readonly #signer: DpopProofSigner
  readonly #nonces = new DpopNonces()

  constructor(key: DpopKey, { now, allowBearerFallback }: DpopProverSettings) {
    this.jkt = key.jkt
    this.allowBearerFallback = allowBearerFallback
    this.#signer = new DpopProofSigner(key, now)
  }

  /**
   * A new proof for `method` `url`, with the nonce the `server` at `url`'s origin gave last, and
   * `ath` when an access token goes with it. Never the same twice: every request, and every
   * retry, gets its own.
   */
  proofFor(server: DpopNonceServer, method: string, url: URL, accessToken?: string): string {
    return this.#signer.proof({ method, url, nonce: this.#nonces.get(server, url.origin), accessToken })
  }

  /**
   * Keeps the nonce of an answer from the `server` at `origin`, when its `DPoP-Nonce` header
   * holds a valid one, and returns it.
   */
  noteNonce(
    server: DpopNonceServer,
    origin: string,
    header: string | readonly string[] | null | undefined,
  ): string | undefined {
    return this.#nonces.remember(server, origin, header)
  }
}
