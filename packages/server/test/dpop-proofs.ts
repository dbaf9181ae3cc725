/**
 * DPoP proofs for the server tests, made with jose (not with the code under test), and shaped at
 * will: any header, any claims, any key.
 */
import { randomUUID } from 'node:crypto'
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose'

type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey']

/** A proof key: the private key signs, the public JWK goes in the header. */
export interface ProofKey {
  privateKey: PrivateKey
  jwk: JWK
  /** RFC 7638 thumbprint of `jwk`, as jose computes it: what `cnf.jkt` must be. */
  jkt: string
  alg: string
}

/** A new key pair for proofs. */
export async function proofKey(alg = 'ES256'): Promise<ProofKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true })
  const jwk = await exportJWK(publicKey)
  return { privateKey, jwk, jkt: await calculateJwkThumbprint(jwk), alg }
}

/** What a proof says; every member may be overridden, `undefined` leaves a claim out. */
export interface ProofShape {
  htu: string
  htm?: string
  iatSec?: number | undefined
  jti?: string | undefined
  nonce?: string
  typ?: string
  /** Header members merged over `typ`, `alg`, `jwk`. */
  header?: Record<string, unknown>
  /** Claims merged over the others. */
  claims?: Record<string, unknown>
}

/** A proof signed by `key`. */
export function proof(key: ProofKey, shape: ProofShape): Promise<string> {
  const claims: Record<string, unknown> = {
    jti: 'jti' in shape ? shape.jti : randomUUID(),
    htm: shape.htm ?? 'POST',
    htu: shape.htu,
    iat: 'iatSec' in shape ? shape.iatSec : Math.floor(Date.now() / 1000),
    ...(shape.nonce === undefined ? {} : { nonce: shape.nonce }),
    ...shape.claims,
  }
  for (const [name, value] of Object.entries(claims)) if (value === undefined) delete claims[name]
  return new SignJWT(claims)
    .setProtectedHeader({
      typ: shape.typ ?? 'dpop+jwt',
      alg: key.alg,
      jwk: key.jwk,
      ...shape.header,
    } as never)
    .sign(key.privateKey)
}

/** A proof under `alg: none` with a signature segment, so that the algorithm rule is what refuses it. */
export function unsignedProof(key: ProofKey, htu: string, nowSec: number): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
  const header = part({ typ: 'dpop+jwt', alg: 'none', jwk: key.jwk })
  const claims = part({ jti: randomUUID(), htm: 'POST', htu, iat: nowSec })
  return `${header}.${claims}.${Buffer.from('not a signature').toString('base64url')}`
}

/** A proof MACed with HS256 under a shared secret, carrying a public EC key as its `jwk`. */
export function hmacProof(key: ProofKey, htu: string, nowSec: number): Promise<string> {
  return new SignJWT({ jti: randomUUID(), htm: 'POST', htu, iat: nowSec })
    .setProtectedHeader({ typ: 'dpop+jwt', alg: 'HS256', jwk: key.jwk } as never)
    .sign(new TextEncoder().encode('a-shared-secret-of-32-bytes-or-more!'))
}

/** The claims of a JWT, unverified. */
export function jwtClaims(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8'))
}
