/**
 * Making DPoP proofs (RFC 9449 §4.2): a JWT with `typ: dpop+jwt`, the key's `alg` and public `jwk`
 * in the header, and `jti`, `htm`, `htu`, `iat`, plus `nonce` when the server gave one and `ath`
 * when the proof goes with an access token. Signed with `node:crypto` directly: the header is the
 * same for every proof of a key and is encoded once, which (with a synchronous signature) makes a
 * proof several times cheaper than jose's `SignJWT`; test/dpop-proof.test.ts checks every proof
 * with jose's `jwtVerify`.
 *
 * @module dpop/dpop-proof
 */
import { constants, randomUUID, type SignKeyObjectInput, sign } from 'node:crypto'
import { accessTokenHash } from '@oauth-m2m/core/internal'
import type { DpopKey } from './dpop-key.js'

/** What one proof is for. */
export interface DpopProofRequest {
  /** The request's HTTP method (`htm`), e.g. `POST`. */
  method: string
  /** The request's URL; `htu` is this without query and fragment. */
  url: string | URL
  /** The server's latest nonce, when it gave one. */
  nonce?: string | undefined
  /** The access token the request carries (resource requests): adds `ath`. */
  accessToken?: string | undefined
}

/**
 * The `htu` of a request to `url`: its target URI without query and fragment (RFC 9449 §4.2), and
 * without user info, which is not part of the target URI (RFC 9110 §7.1).
 */
export function htuOf(url: string | URL): string {
  const u = typeof url === 'string' ? new URL(url) : url
  return `${u.origin}${u.pathname}`
}

/** Signs DPoP proofs with one key. */
export class DpopProofSigner {
  /** RFC 7638 thumbprint of the key (the token's `cnf.jkt`). */
  readonly jkt: string
  readonly #headerSegment: string
  readonly #hash: string | null
  readonly #key: SignKeyObjectInput
  readonly #now: () => number
  #lastToken: string | undefined
  #lastAth = ''

  /** @param now Clock for `iat`, epoch ms. */
  constructor(key: DpopKey, now: () => number) {
    this.jkt = key.jkt
    this.#now = now
    this.#headerSegment = Buffer.from(
      JSON.stringify({ typ: 'dpop+jwt', alg: key.alg, jwk: key.publicJwk }),
    ).toString('base64url')
    // RFC 7518 §3.4 (ES256: the raw r||s form), §3.5 (PS256: salt as long as the hash), RFC 8037 (EdDSA: no prehash).
    this.#hash = key.alg === 'EdDSA' ? null : 'sha256'
    this.#key =
      key.alg === 'ES256'
        ? { key: key.privateKey, dsaEncoding: 'ieee-p1363' }
        : key.alg === 'PS256'
          ? { key: key.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }
          : { key: key.privateKey }
  }

  /** A new proof for one request: a fresh `jti` every time, so no two proofs are alike. */
  proof({ method, url, nonce, accessToken }: DpopProofRequest): string {
    const claims: Record<string, string | number> = {
      jti: randomUUID(),
      htm: method,
      htu: htuOf(url),
      iat: Math.floor(this.#now() / 1000),
    }
    if (nonce !== undefined) claims.nonce = nonce
    if (accessToken !== undefined) claims.ath = this.#ath(accessToken)
    const signingInput = `${this.#headerSegment}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`
    const signature = sign(this.#hash, Buffer.from(signingInput), this.#key)
    return `${signingInput}.${signature.toString('base64url')}`
  }

  /** `ath` of the token; requests in a row carry the same token, so the last hash is kept. */
  #ath(accessToken: string): string {
    if (accessToken !== this.#lastToken) {
      this.#lastAth = accessTokenHash(accessToken)
      this.#lastToken = accessToken
    }
    return this.#lastAth
  }
}
