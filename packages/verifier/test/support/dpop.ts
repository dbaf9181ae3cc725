/**
 * DPoP for verifier tests, made with jose (a peer implementation): client key pairs, proofs
 * (RFC 9449 §4.2) and access tokens bound to a key with `cnf.jkt` (§6.1).
 */
import { randomUUID } from 'node:crypto'
import {
  base64url,
  type CryptoKey,
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  type JWK,
  type JWTPayload,
  SignJWT,
} from 'jose'
import { accessTokenClaims, mintToken, type TestKey } from './keys.js'

/** A client's DPoP key pair. */
export interface DpopKey {
  alg: string
  privateKey: CryptoKey
  publicJwk: JWK
  /** RFC 7638 thumbprint: what `cnf.jkt` names. */
  jkt: string
}

export async function dpopKey(alg = 'ES256'): Promise<DpopKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true })
  const publicJwk = await exportJWK(publicKey)
  return { alg, privateKey, publicJwk, jkt: await calculateJwkThumbprint(publicJwk, 'sha256') }
}

/** The request a proof is for, and what to change in an honest one. */
export interface ProofFor {
  method?: string
  url: string
  /** The access token it travels with (`ath`). */
  accessToken?: string
  nonce?: string
  /** Seconds since the epoch. Default: now. */
  iat?: number
  jti?: string
  /** Claims to add or override; `undefined` removes. */
  claims?: Record<string, unknown>
}

/** `ath` of RFC 9449 §4.2, computed with WebCrypto rather than core's helper. */
export async function ath(accessToken: string): Promise<string> {
  return base64url.encode(
    new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(accessToken))),
  )
}

/** A DPoP proof signed with jose. */
export async function dpopProof(key: DpopKey, p: ProofFor): Promise<string> {
  const claims: Record<string, unknown> = {
    jti: p.jti ?? randomUUID(),
    htm: p.method ?? 'GET',
    htu: p.url,
    iat: p.iat ?? Math.floor(Date.now() / 1000),
  }
  if (p.accessToken !== undefined) claims.ath = await ath(p.accessToken)
  if (p.nonce !== undefined) claims.nonce = p.nonce
  for (const [name, value] of Object.entries(p.claims ?? {})) {
    if (value === undefined) delete claims[name]
    else claims[name] = value
  }
  return new SignJWT(claims as JWTPayload)
    .setProtectedHeader({ typ: 'dpop+jwt', alg: key.alg, jwk: key.publicJwk })
    .sign(key.privateKey)
}

/** An access token bound to `key` (`cnf.jkt`), signed by the issuer key `signer`. */
export function boundToken(
  signer: TestKey,
  key: DpopKey,
  claims: Record<string, unknown> = {},
): Promise<string> {
  return mintToken(signer, accessTokenClaims({ cnf: { jkt: key.jkt }, ...claims }))
}
