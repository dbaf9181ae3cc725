/**
 * The signing keys of one server as its configuration asks: keys kept in this process (generated,
 * or configured by the operator), or keys shared through the store by every instance.
 *
 * @module server-signing-keys
 */
import { ConfigurationError } from '@oauth-m2m/core'
import type { ResolvedConfig } from '../resolve-config.js'
import type { ServerStore } from '../server-store.js'
import { LocalKeyRotation } from './local-key-rotation.js'
import { SharedSigningKeys } from './shared-signing-keys.js'
import type { SigningAlg, SigningKey } from './signing-key.js'
import { SigningKeySet } from './signing-key-set.js'

/**
 * How long a key replaced on the store stays published beyond the longest token lifetime and the
 * refresh period, in milliseconds: for verifiers whose clocks run behind (as `SigningKeySet`'s
 * default retention margin).
 */
const SHARED_RETENTION_MARGIN_MS = 60_000

/** A server's signing keys and what changes them. */
export interface ServerSigningKeys {
  /** The keys that sign and verify, changed in place. */
  readonly keys: SigningKeySet
  /** Whether the keys live on the store, shared by every instance. */
  readonly shared: boolean
  /** Makes the next key current (`rotateSigningKey`). */
  rotate(alg?: SigningAlg): Promise<SigningKey>
  /** Starts the background work (reloads, scheduled rotation); idempotent. */
  start(): void
  /** Stops the background work. */
  stop(): void
}

/**
 * The store's own `ConfigurationError` (the guard wrapped it as a store failure): at start, the
 * operator needs its message, not "the store failed".
 */
function unwrapConfigurationError(error: unknown): never {
  const cause = error instanceof Error ? error.cause : undefined
  throw cause instanceof ConfigurationError ? cause : error
}

/** The longest lifetime, in seconds, of any access token the configuration issues. */
function longestTokenLifetimeSec(config: ResolvedConfig): number {
  return Math.max(config.accessTokenLifetimeSec, ...config.resources.map((r) => r.accessTokenLifetimeSec))
}

/**
 * The keys for `config`. They live on `store` when a store was configured and no `signing.keys`
 * were: a store given to the server is there to be shared. Configured keys are the operator's and
 * never stored; the default memory store keeps this process's keys as before.
 *
 * @param store The server's store, guarded.
 * @param onError Told of background failures.
 * @throws {StoreUnavailableError} when the keys live on a store that cannot be reached.
 * @throws {ConfigurationError} when the store refuses the keys for its own configuration (a Redis
 *   store without its key-encryption key).
 */
export async function createServerSigningKeys(
  config: ResolvedConfig,
  store: ServerStore,
  onError: (error: unknown) => void,
): Promise<ServerSigningKeys> {
  const { signing, now } = config
  const refreshEveryMs = signing.refreshEverySec * 1000
  const rotateEveryMs = signing.rotateEverySec === undefined ? undefined : signing.rotateEverySec * 1000
  if (config.store !== undefined && signing.keys === undefined) {
    const shared = await SharedSigningKeys.load({
      store,
      alg: signing.alg ?? 'ES256',
      // An instance that missed the rotation's event signs with the old key until its next reload.
      retainAfterRotationMs:
        longestTokenLifetimeSec(config) * 1000 + refreshEveryMs + SHARED_RETENTION_MARGIN_MS,
      refreshEveryMs,
      rotateEveryMs,
      now,
      onError,
    }).catch(unwrapConfigurationError)
    return {
      keys: shared.keys,
      shared: true,
      rotate: (alg) => shared.rotate(alg),
      start: () => shared.start(),
      stop: () => shared.stop(),
    }
  }
  const keys = await SigningKeySet.create({
    ...(signing.alg ? { alg: signing.alg } : {}),
    ...(signing.keys ? { keys: signing.keys } : {}),
    now,
  })
  const schedule =
    rotateEveryMs === undefined
      ? undefined
      : new LocalKeyRotation(keys, { rotateEveryMs, checkEveryMs: refreshEveryMs, now, onError })
  return {
    keys,
    shared: false,
    rotate: (alg) => keys.rotate(alg),
    start: () => schedule?.start(),
    stop: () => schedule?.stop(),
  }
}
