/**
 * Signs compact JWS with any header at all — including ones jose refuses to produce (`crit` with
 * unknown names, `b64: false`, `alg: none`, HMAC keyed with public key material) — for attack
 * tests and the differential test.
 */
import { constants, createHmac, KeyObject, sign } from 'node:crypto'
import type { CryptoKey } from 'jose'

export function b64url(value: string | Uint8Array): string {
  return Buffer.from(value).toString('base64url')
}

export function encodeJson(value: unknown): string {
  return b64url(JSON.stringify(value))
}

const DIGEST: Record<string, string> = { '256': 'sha256', '384': 'sha384', '512': 'sha512' }

/** The raw signature of `input` for `alg` with `key` (a private CryptoKey / KeyObject, or HMAC secret bytes). */
export function rawSignature(
  alg: string,
  key: CryptoKey | KeyObject | Uint8Array | string,
  input: string,
): string {
  const data = Buffer.from(input, 'latin1')
  if (alg === 'none') return ''
  if (alg.startsWith('HS')) {
    return createHmac(DIGEST[alg.slice(2)]!, key as Uint8Array | string)
      .update(data)
      .digest('base64url')
  }
  const keyObject = key instanceof KeyObject ? key : KeyObject.from(key as CryptoKey)
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

/** A compact JWS over `header` and `claims` (or a ready payload segment) signed with `alg`. */
export function signCompact(
  header: Record<string, unknown>,
  claims: unknown,
  alg: string,
  key: CryptoKey | KeyObject | Uint8Array | string,
): string {
  const payload = typeof claims === 'string' ? claims : encodeJson(claims)
  const input = `${encodeJson(header)}.${payload}`
  return `${input}.${rawSignature(alg, key, input)}`
}
