/**
 * DPoP proofs for tests, signed with any header and claims at all — including what no honest
 * client sends (`alg: none`, HMAC, private key members in `jwk`) — with node:crypto.
 */
import { constants, createHmac, generateKeyPairSync, type KeyObject, randomUUID, sign } from 'node:crypto'

export function b64url(value: string | Uint8Array): string {
  return Buffer.from(value).toString('base64url')
}

export function encodeJson(value: unknown): string {
  return b64url(JSON.stringify(value))
}

const DIGEST: Record<string, string> = { '256': 'sha256', '384': 'sha384', '512': 'sha512' }

/** The raw signature of `input` for `alg` with a private KeyObject, or an HMAC secret. */
export function rawSignature(alg: string, key: KeyObject | string, input: string): string {
  const data = Buffer.from(input, 'latin1')
  if (alg === 'none') return ''
  if (alg.startsWith('HS'))
    return createHmac(DIGEST[alg.slice(2)]!, key as string)
      .update(data)
      .digest('base64url')
  const keyObject = key as KeyObject
  const digest = DIGEST[alg.slice(2)] ?? null
  if (alg.startsWith('RS')) return b64url(sign(digest, data, keyObject))
  if (alg.startsWith('PS')) {
    return b64url(
      sign(digest, data, {
        key: keyObject,
        padding: constants.RSA_PKCS1_PSS_PADDING,
        saltLength: Number(alg.slice(2)) / 8,
      }),
    )
  }
  if (alg.startsWith('ES')) return b64url(sign(digest, data, { key: keyObject, dsaEncoding: 'ieee-p1363' }))
  return b64url(sign(null, data, keyObject))
}

/** A key pair a test client proves possession of. */
export interface ProofKey {
  /** The algorithm it signs with by default. */
  alg: string
  privateKey: KeyObject
  /** Its public JWK, as a client puts it in the `jwk` header. */
  publicJwk: Record<string, unknown>
}

const KEY_SPECS: Record<string, () => { privateKey: KeyObject; publicKey: KeyObject }> = {
  ES256: () => generateKeyPairSync('ec', { namedCurve: 'P-256' }),
  ES384: () => generateKeyPairSync('ec', { namedCurve: 'P-384' }),
  ES512: () => generateKeyPairSync('ec', { namedCurve: 'P-521' }),
  EdDSA: () => generateKeyPairSync('ed25519'),
  Ed25519: () => generateKeyPairSync('ed25519'),
  RS256: () => generateKeyPairSync('rsa', { modulusLength: 2048 }),
  PS256: () => generateKeyPairSync('rsa', { modulusLength: 2048 }),
}

/** A fresh key pair for `alg` (RSA keys of `modulusLength` bits, default 2048). */
export function proofKey(alg: string, modulusLength?: number): ProofKey {
  const pair = modulusLength === undefined ? KEY_SPECS[alg]!() : generateKeyPairSync('rsa', { modulusLength })
  return {
    alg,
    privateKey: pair.privateKey,
    publicJwk: pair.publicKey.export({ format: 'jwk' }) as Record<string, unknown>,
  }
}

/** A compact JWS over exactly `header` and `claims`, signed with `alg` by `key`. */
export function signCompact(
  header: Record<string, unknown>,
  claims: unknown,
  alg: string,
  key: KeyObject | string,
): string {
  const payload = typeof claims === 'string' ? claims : encodeJson(claims)
  const input = `${encodeJson(header)}.${payload}`
  return `${input}.${rawSignature(alg, key, input)}`
}

/** What {@link makeProof} changes in an honest proof; a member set to `undefined` is left out. */
export interface ProofChanges {
  header?: Record<string, unknown>
  claims?: Record<string, unknown>
  /** Sign with this algorithm instead of the header's. */
  signAlg?: string
  /** Sign with this key (or HMAC secret) instead of the proof key's own. */
  signKey?: KeyObject | string
}

function drop(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined))
}

/**
 * An honest proof for `method` `url` at `nowSec`, changed by `changes`: `typ: dpop+jwt`, the key's
 * `alg` and public `jwk`; a fresh `jti`, `htm`, `htu`, `iat`.
 */
export function makeProof(
  key: ProofKey,
  request: { method: string; url: string; nowSec: number },
  changes: ProofChanges = {},
): string {
  const header = drop({ typ: 'dpop+jwt', alg: key.alg, jwk: key.publicJwk, ...changes.header })
  const claims = drop({
    jti: randomUUID(),
    htm: request.method,
    htu: request.url,
    iat: request.nowSec,
    ...changes.claims,
  })
  return signCompact(header, claims, changes.signAlg ?? String(header.alg), changes.signKey ?? key.privateKey)
}
