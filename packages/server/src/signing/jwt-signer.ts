/**
 * Compact JWS signing and verification of the server's own access tokens with `node:crypto`
 * KeyObjects: the one module of the server allowed to do JWS without jose, because signing is
 * the token endpoint's hot path and node:crypto signs about 3× faster than WebCrypto here. The
 * differential tests in `test/signing` prove jose accepts every token signed here and agrees
 * with every verdict given here.
 *
 * @module jwt-signer
 */
import { constants, type KeyObject, type SignKeyObjectInput, sign, verify } from 'node:crypto'
import type { SigningAlg, SigningKey } from './signing-key.js'
import type { SigningKeySet } from './signing-key-set.js'

/** Tokens longer than this are refused before any decoding, in characters. */
const MAX_TOKEN_LENGTH = 8 * 1024

/** The default `typ` header of access tokens (RFC 9068 §2.1). */
const ACCESS_TOKEN_TYP = 'at+jwt'

const BASE64URL = /^[A-Za-z0-9_-]+$/

const utf8 = new TextDecoder('utf-8', { fatal: true })

/** How node:crypto is called for one key: digest name and the key with its encoding options. */
interface PreparedKey {
  readonly digest: string | null
  readonly signWith: SignKeyObjectInput
  readonly verifyWith: SignKeyObjectInput
  /** Encoded protected headers by `typ` (`''` for none); the configured one is the hot path's. */
  readonly headers: Map<string, string>
}

const prepared = new WeakMap<SigningKey, PreparedKey>()

function cryptoOptions(alg: SigningAlg, key: KeyObject): SignKeyObjectInput {
  switch (alg) {
    case 'ES256':
      // JWS carries the raw r‖s pair (RFC 7518 §3.4), not DER.
      return { key, dsaEncoding: 'ieee-p1363' }
    case 'PS256':
      // RFC 7518 §3.5: the salt is as long as the hash output.
      return { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }
    case 'RS256':
      return { key, padding: constants.RSA_PKCS1_PADDING }
    case 'EdDSA':
      return { key }
  }
}

function prepare(key: SigningKey): PreparedKey {
  let entry = prepared.get(key)
  if (entry === undefined) {
    entry = {
      digest: key.alg === 'EdDSA' ? null : 'sha256',
      signWith: cryptoOptions(key.alg, key.privateKey),
      verifyWith: cryptoOptions(key.alg, key.publicKey),
      headers: new Map(),
    }
    prepared.set(key, entry)
  }
  return entry
}

function encodedHeader(key: SigningKey, entry: PreparedKey, typ: string | null): string {
  let header = entry.headers.get(typ ?? '')
  if (header === undefined) {
    const members = typ === null ? { alg: key.alg, kid: key.kid } : { alg: key.alg, typ, kid: key.kid }
    header = Buffer.from(JSON.stringify(members)).toString('base64url')
    entry.headers.set(typ ?? '', header)
  }
  return header
}

function signEncoded(entry: PreparedKey, encodedHeader: string, payload: object): string {
  const signingInput = `${encodedHeader}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`
  const signature = sign(entry.digest, Buffer.from(signingInput), entry.signWith)
  return `${signingInput}.${signature.toString('base64url')}`
}

/**
 * Signs `payload` as a compact JWS with header `{alg, typ, kid}`.
 *
 * @param key The key to sign with; its `alg` is the token's `alg`.
 * @param payload The claims, a JSON object; serialised with `JSON.stringify`.
 * @param typ The `typ` header, or `null` to leave it out. Default `at+jwt` (RFC 9068).
 * @returns The compact serialisation `header.payload.signature`.
 */
export function signJwt(key: SigningKey, payload: object, typ: string | null = ACCESS_TOKEN_TYP): string {
  const entry = prepare(key)
  return signEncoded(entry, encodedHeader(key, entry, typ), payload)
}

/**
 * Signs `payload` with the header `{alg, typ, kid, ...header}`: members of `header` replace or
 * add to the usual ones (one whose value is `undefined` is left out), except `alg`, which is
 * always the key's. Not cached: for tokens shaped by hand, not the token endpoint's hot path.
 *
 * @param typ The usual `typ`, or `null` for none.
 */
export function signJwtWithHeader(
  key: SigningKey,
  payload: object,
  typ: string | null,
  header: Readonly<Record<string, unknown>>,
): string {
  const members: Record<string, unknown> = {
    alg: key.alg,
    ...(typ === null ? {} : { typ }),
    kid: key.kid,
    ...header,
  }
  // Set again rather than spread last, so that `alg` stays the first member.
  members.alg = key.alg
  return signEncoded(prepare(key), Buffer.from(JSON.stringify(members)).toString('base64url'), payload)
}

/**
 * Decodes one base64url segment, or `undefined` when it is not base64url. Like jose (whose
 * decoder ignores them too), unused trailing bits of the last character are not checked.
 */
function decodeSegment(segment: string): Buffer | undefined {
  if (!BASE64URL.test(segment) || segment.length % 4 === 1) return undefined
  return Buffer.from(segment, 'base64url')
}

/** Parses a segment holding a JSON object, or `undefined` when it is anything else. */
function parseJsonObject(segment: string): Record<string, unknown> | undefined {
  const bytes = decodeSegment(segment)
  if (bytes === undefined) return undefined
  let value: unknown
  try {
    value = JSON.parse(utf8.decode(bytes))
  } catch {
    return undefined
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined
  return value as Record<string, unknown>
}

/**
 * Whether a header's `typ` is `expected` (`null`: no `typ`). RFC 7515 §4.1.9: media types compare
 * case-insensitively and `application/` may be omitted.
 */
function isExpectedTyp(typ: unknown, expected: string | null): boolean {
  if (expected === null) return typ === undefined
  if (typeof typ !== 'string') return false
  const lower = typ.toLowerCase()
  const wanted = expected.toLowerCase()
  return lower === wanted || lower === `application/${wanted}` || `application/${lower}` === wanted
}

/**
 * Verifies an access token this server signed: compact JWS, `typ` as configured, a `kid` naming a
 * published key of `keys`, `alg` equal to that key's algorithm, a valid signature, and a JSON
 * object payload. Does NOT check `exp`, `nbf` or any other claim: the caller does.
 *
 * Headers with `crit` or `b64` are refused: the server never sets them.
 *
 * @param typ The `typ` the server writes (`accessTokenTyp`), or `null` for none. Default `at+jwt`.
 * @returns The claims, or `undefined` for anything else (never throws on bad input).
 */
export function verifyOwnJwt(
  token: string,
  keys: SigningKeySet,
  typ: string | null = ACCESS_TOKEN_TYP,
): Record<string, unknown> | undefined {
  if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) return undefined
  const firstDot = token.indexOf('.')
  const secondDot = token.indexOf('.', firstDot + 1)
  if (firstDot < 0 || secondDot < 0 || token.indexOf('.', secondDot + 1) >= 0) return undefined

  const header = parseJsonObject(token.slice(0, firstDot))
  if (header === undefined) return undefined
  if (!isExpectedTyp(header.typ, typ) || Object.hasOwn(header, 'crit') || Object.hasOwn(header, 'b64'))
    return undefined
  if (typeof header.kid !== 'string' || typeof header.alg !== 'string') return undefined
  const key = keys.find(header.kid)
  if (key === undefined || header.alg !== key.alg) return undefined

  const signature = decodeSegment(token.slice(secondDot + 1))
  if (signature === undefined) return undefined
  const payloadSegment = token.slice(firstDot + 1, secondDot)
  if (!BASE64URL.test(payloadSegment)) return undefined
  const entry = prepare(key)
  let valid: boolean
  try {
    valid = verify(entry.digest, Buffer.from(token.slice(0, secondDot)), entry.verifyWith, signature)
  } catch {
    return undefined
  }
  return valid ? parseJsonObject(payloadSegment) : undefined
}
