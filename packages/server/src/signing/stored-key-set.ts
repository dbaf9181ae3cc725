/**
 * The signing keys as a shared store holds them ({@link StoredSigningKeys}, private JWKs) and
 * back: a first set, the set a rotation makes, and the import of a loaded set into keys that sign.
 *
 * @module stored-key-set
 */
import type { JWK } from 'jose'
import type { StoredSigningKey, StoredSigningKeys } from '../server-store.js'
import { generateSigningKey, importSigningKey, type SigningAlg, type SigningKey } from './signing-key.js'
import type { SharedKeys } from './signing-key-set.js'

/** The private JWK of `key` as a store keeps it: key material, `kid`, `alg` and `use`. */
export function privateJwk(key: SigningKey): JWK {
  const exported = key.privateKey.export({ format: 'jwk' }) as JWK
  return { ...exported, kid: key.kid, alg: key.alg, use: 'sig' }
}

/** A first key set: a new current key (active from `nowMs`) and a new next key, version 1. */
export async function firstStoredKeys(alg: SigningAlg, nowMs: number): Promise<StoredSigningKeys> {
  const [current, next] = await Promise.all([generateSigningKey(alg), generateSigningKey(alg)])
  return {
    version: 1,
    current: { jwk: privateJwk(current), activatedAtMs: nowMs },
    next: { jwk: privateJwk(next) },
    retired: [],
  }
}

/** What {@link rotatedStoredKeys} needs besides the set it rotates. */
export interface StoredRotation {
  /** The time of the rotation, epoch ms. */
  nowMs: number
  /** How long the replaced key stays published after `nowMs`, in milliseconds. */
  retainAfterMs: number
  /** The key that becomes current: the set's next key when it has the wanted algorithm. */
  current: StoredSigningKey
  /** The new next key. */
  next: StoredSigningKey
}

/**
 * The set after one rotation of `from`: one version up, `rotation.current` current from `nowMs`,
 * the previous current key retired until `nowMs + retainAfterMs`, the previous next key retired
 * as well when it is not the one made current (it was published, so a verifier may hold it), and
 * retired keys whose time has passed dropped.
 */
export function rotatedStoredKeys(from: StoredSigningKeys, rotation: StoredRotation): StoredSigningKeys {
  const { nowMs, retainAfterMs } = rotation
  const retainUntilMs = nowMs + retainAfterMs
  const replaced: StoredSigningKey[] = [{ jwk: from.current.jwk, retainUntilMs }]
  if (from.next.jwk.kid !== rotation.current.jwk.kid) replaced.push({ jwk: from.next.jwk, retainUntilMs })
  const stillPublished = from.retired.filter((key) => (key.retainUntilMs ?? 0) >= nowMs)
  return {
    version: from.version + 1,
    current: { jwk: rotation.current.jwk, activatedAtMs: nowMs },
    next: rotation.next,
    retired: [...replaced, ...stillPublished],
  }
}

/** The `alg` a stored key signs with. */
export function storedAlg(key: StoredSigningKey): SigningAlg | undefined {
  return key.jwk.alg as SigningAlg | undefined
}

/** Whether two public JWKs name the same key (compared on the members that make the key). */
function samePublicKey(a: JWK, b: JWK): boolean {
  return a.kty === b.kty && a.crv === b.crv && a.x === b.x && a.y === b.y && a.n === b.n && a.e === b.e
}

/**
 * Imports a loaded set. A key already imported (same `kid`, same public key) is reused, so that
 * a reload costs nothing for keys that did not change and node:crypto's prepared signers stay.
 *
 * @param known Keys imported before, by `kid`.
 * @throws {Error} without key material when a stored key cannot be imported.
 */
export async function importStoredKeys(
  stored: StoredSigningKeys,
  known: ReadonlyMap<string, SigningKey>,
): Promise<SharedKeys> {
  const load = async (entry: StoredSigningKey, index: number): Promise<SigningKey> => {
    const kid = entry.jwk.kid
    const reused = kid === undefined ? undefined : known.get(kid)
    if (reused !== undefined && samePublicKey(reused.publicJwk, entry.jwk)) return reused
    try {
      return await importSigningKey(entry.jwk, index, undefined)
    } catch (cause) {
      throw new Error(`the store holds a signing key that cannot be used (version ${stored.version})`, {
        cause,
      })
    }
  }
  const [current, next, ...retired] = await Promise.all(
    [stored.current, stored.next, ...stored.retired].map((entry, index) => load(entry, index)),
  )
  return {
    current: { key: current as SigningKey, activatedAtMs: stored.current.activatedAtMs ?? 0 },
    next: next as SigningKey,
    retired: retired.map((key, i) => ({ key, retainUntilMs: stored.retired[i]?.retainUntilMs ?? 0 })),
  }
}
