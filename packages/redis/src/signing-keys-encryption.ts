/**
 * The signing keys at rest in Redis: the whole key set (private JWKs, roles, activation and
 * retention times, version) as one JWE (`dir`, `A256GCM`) under the operator's key-encryption key,
 * with the key prefix and the set's version as additional authenticated data. Whoever reads Redis
 * learns no private key; whoever writes it cannot make a set the server accepts, move one set into
 * another deployment's prefix, or change one member (a role, a retention time) of a set.
 *
 * @module signing-keys-encryption
 */
import { createHash } from 'node:crypto'
import { ConfigurationError, StoreUnavailableError } from '@oauth-m2m/core'
import type { StoredSigningKeys } from '@oauth-m2m/server'
import type { FlattenedJWE } from 'jose'

/** Length of a key-encryption key: AES-256. */
const KEK_BYTES = 32

/**
 * The signing keys in Redis could not be read back: they were encrypted with another
 * key-encryption key, or they were altered. Code `ERR_STORE_UNAVAILABLE` (the server answers 503:
 * it cannot sign without its keys); the class says which failure it is.
 */
export class SigningKeysUnreadableError extends StoreUnavailableError {}

/** A validated key-encryption key, and the short id that tells it apart from another one. */
export interface KeyEncryptionKey {
  readonly key: Uint8Array
  /** Half of a SHA-256 of the key: says "another key" without revealing anything of this one. */
  readonly id: string
}

/**
 * Reads the `keyEncryptionKey` option (or one of its fallbacks, named `name` in errors): 32 bytes,
 * or those bytes base64url-encoded (43 characters, no padding), as `M2M_KEY_ENCRYPTION_KEY` holds
 * them. Never repeats the value in an error.
 */
export function keyEncryptionKey(
  owner: string,
  value: Uint8Array | string,
  name = 'keyEncryptionKey',
): KeyEncryptionKey {
  let key: Uint8Array
  if (typeof value === 'string') {
    if (!/^[A-Za-z0-9_-]{43}$/.test(value)) {
      throw new ConfigurationError(
        `${owner}: ${name} must be 32 bytes, base64url-encoded (43 characters; make one with ` +
          "`node -e \"console.log(require('node:crypto').randomBytes(32).toString('base64url'))\"`)",
      )
    }
    key = new Uint8Array(Buffer.from(value, 'base64url'))
  } else if (value instanceof Uint8Array) {
    key = Uint8Array.from(value)
  } else {
    throw new ConfigurationError(`${owner}: ${name} must be a Uint8Array or a base64url string`)
  }
  if (key.length !== KEK_BYTES) {
    throw new ConfigurationError(`${owner}: ${name} must be exactly 32 bytes`)
  }
  const id = createHash('sha256')
    .update('oauth-m2m key-encryption key id\0')
    .update(key)
    .digest()
    .subarray(0, 16)
  return { key, id: id.toString('base64url') }
}

/** What binds a ciphertext to its place: this deployment's prefix and this version of the set. */
function additionalData(keyPrefix: string, version: number): Uint8Array {
  return new TextEncoder().encode(`oauth-m2m signing keys\0${keyPrefix}\0${version}`)
}

/** The key set as the JWE stored in Redis (JSON text). */
export async function encryptSigningKeys(
  keys: StoredSigningKeys,
  kek: KeyEncryptionKey,
  keyPrefix: string,
): Promise<string> {
  // jose loads with the first key set written or read, not when the package is imported.
  const { FlattenedEncrypt } = await import('jose')
  const jwe = await new FlattenedEncrypt(new TextEncoder().encode(JSON.stringify(keys)))
    .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid: kek.id })
    .setAdditionalAuthenticatedData(additionalData(keyPrefix, keys.version))
    .encrypt(kek.key)
  return JSON.stringify(jwe)
}

/** A key set read back, and the key-encryption key it was encrypted with. */
export interface DecryptedSigningKeys {
  readonly keys: StoredSigningKeys
  readonly kek: KeyEncryptionKey
}

/**
 * The key set stored as `stored` under `version`, decrypted with the one of `keks` (the current
 * key first, then its fallbacks) that its header names, and checked. Rejects with
 * {@link SigningKeysUnreadableError} when it was encrypted with none of them, altered, or moved.
 */
export async function decryptSigningKeys(
  stored: string,
  version: number,
  keks: readonly [KeyEncryptionKey, ...KeyEncryptionKey[]],
  keyPrefix: string,
): Promise<DecryptedSigningKeys> {
  let jwe: FlattenedJWE
  try {
    jwe = JSON.parse(stored) as FlattenedJWE
  } catch {
    throw new SigningKeysUnreadableError('the signing keys in Redis are not a JWE: they were altered')
  }
  let header: { kid?: unknown } = {}
  try {
    header = JSON.parse(Buffer.from(jwe.protected ?? '', 'base64url').toString('utf8')) as { kid?: unknown }
  } catch {
    // Left to the decryption below, which fails on a broken header.
  }
  // A set without a kid (or with a broken header) is tried with the current key, and fails there.
  const kek = header.kid === undefined ? keks[0] : keks.find((candidate) => candidate.id === header.kid)
  if (kek === undefined) {
    throw new SigningKeysUnreadableError(
      "the signing keys in Redis were encrypted with a different keyEncryptionKey (not this store's nor a fallback), or altered",
    )
  }
  let plaintext: Uint8Array
  try {
    const expected = additionalData(keyPrefix, version)
    const { flattenedDecrypt } = await import('jose')
    const result = await flattenedDecrypt(jwe, kek.key, {
      keyManagementAlgorithms: ['dir'],
      contentEncryptionAlgorithms: ['A256GCM'],
    })
    const aad = result.additionalAuthenticatedData
    if (aad === undefined || Buffer.compare(Buffer.from(aad), Buffer.from(expected)) !== 0) {
      throw new Error('additional authenticated data differs')
    }
    plaintext = result.plaintext
  } catch (error) {
    throw new SigningKeysUnreadableError(
      'the signing keys in Redis could not be decrypted: they were altered, moved from another ' +
        'key prefix or version, or encrypted with a different keyEncryptionKey',
      { cause: error },
    )
  }
  let keys: StoredSigningKeys
  try {
    keys = JSON.parse(new TextDecoder().decode(plaintext)) as StoredSigningKeys
  } catch (error) {
    throw new SigningKeysUnreadableError('the decrypted signing keys are not JSON', { cause: error })
  }
  if (!isKeySet(keys) || keys.version !== version) {
    throw new SigningKeysUnreadableError('the decrypted signing keys are not a key set of this version')
  }
  return { keys, kek }
}

function isKeyEntry(value: unknown): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { jwk?: unknown }).jwk === 'object' &&
    (value as { jwk?: unknown }).jwk !== null
  )
}

function isKeySet(value: unknown): value is StoredSigningKeys {
  if (typeof value !== 'object' || value === null) return false
  const set = value as Partial<Record<keyof StoredSigningKeys, unknown>>
  return (
    Number.isSafeInteger(set.version) &&
    isKeyEntry(set.current) &&
    isKeyEntry(set.next) &&
    Array.isArray(set.retired) &&
    set.retired.every(isKeyEntry)
  )
}
