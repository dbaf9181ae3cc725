/**
 * The `dpop` option of `createVerifier`: whether DPoP-bound tokens (RFC 9449) are accepted,
 * required or refused, and how proofs are judged.
 *
 * @module dpop-options
 */
import {
  DEFAULT_DPOP_IAT_WINDOW_SEC,
  DPOP_SIGNING_ALGS,
  type DpopSigningAlg,
  isDpopSigningAlg,
  RotatingNonce,
} from '@oauth-m2m/core/internal'
import {
  DEFAULT_DPOP_REPLAY_MAX_ENTRIES,
  type DpopReplayStore,
  MemoryDpopReplayStore,
} from './dpop-replay-store.js'
import { invalid, positive } from './option-checks.js'

/**
 * Which tokens a resource server takes:
 * - `allowed` (default): DPoP-bound tokens (`cnf.jkt`) with the `DPoP` scheme and a valid proof,
 *   and unbound tokens with the `Bearer` scheme.
 * - `required`: DPoP-bound tokens only; an unbound token is `invalid_token`.
 * - `disabled`: unbound tokens only, with `Bearer`; the `DPoP` scheme is not accepted, and a
 *   DPoP-bound token is refused (it cannot be used without its proof being checked).
 */
export type DpopMode = 'allowed' | 'required' | 'disabled'

/** Resource-server nonces (RFC 9449 §9): a proof must carry a nonce this verifier handed out. */
export interface DpopNonceOptions {
  /**
   * HMAC key of the rotating nonces, at least 32 bytes. Give every instance the same one so they
   * accept each other's nonces. Default: random per verifier (one instance only).
   */
  secret?: string | Uint8Array
  /** Nonces rotate every `windowSec` and are accepted for one more window. Default 60. */
  windowSec?: number
}

/** How DPoP proofs are judged. Every member is optional. */
export interface DpopOptions {
  /** See {@link DpopMode}. Default `allowed`. */
  mode?: DpopMode
  /** Algorithms a proof may be signed with. Default every asymmetric one: `DPOP_SIGNING_ALGS`. */
  algorithms?: readonly DpopSigningAlg[]
  /** How far a proof's `iat` may be from now, in seconds, either way. Default 60. */
  iatWindowSec?: number
  /**
   * Where used proofs are remembered (replay). Default: a `MemoryDpopReplayStore` of
   * `replayCacheMaxEntries` per verifier entry; give a shared store when several instances serve
   * the same tokens.
   */
  replayStore?: DpopReplayStore
  /** Bound of the default in-memory replay cache, in proofs. Default 100 000. Not with `replayStore`. */
  replayCacheMaxEntries?: number
  /**
   * Resource-server nonces (RFC 9449 §9): `true` (random secret) or their options. A proof then
   * needs a current nonce, else `use_dpop_nonce` with a fresh one in `DPoP-Nonce`. Default: off.
   */
  nonce?: boolean | DpopNonceOptions
}

/** The `dpop` option checked, with defaults. */
export interface DpopSettings {
  readonly mode: DpopMode
  readonly algorithms: readonly DpopSigningAlg[]
  readonly algorithmSet: ReadonlySet<string>
  readonly iatWindowSec: number
  readonly replayStore: DpopReplayStore
  readonly nonces: RotatingNonce | undefined
}

const MODES: ReadonlySet<unknown> = new Set<DpopMode>(['allowed', 'required', 'disabled'])

function resolveNonces(nonce: DpopOptions['nonce'], now: () => number): RotatingNonce | undefined {
  if (nonce === undefined || nonce === false) return undefined
  if (nonce !== true && (typeof nonce !== 'object' || nonce === null)) {
    invalid('dpop.nonce must be a boolean or { secret?, windowSec? }')
  }
  const { secret, windowSec } = nonce === true ? {} : nonce
  if (windowSec !== undefined) positive(windowSec, 'dpop.nonce.windowSec', 0, false)
  try {
    return new RotatingNonce({ secret, windowSec, now, context: 'resource' })
  } catch (err) {
    return invalid(`dpop.nonce: ${(err as Error).message}`)
  }
}

/**
 * Checks the `dpop` option (a mode, or the options object) and fills in the defaults.
 *
 * @param now - the verifier's clock, which nonces and the default replay cache follow.
 * @throws {ConfigurationError} naming the first invalid member.
 */
export function resolveDpopOptions(
  option: DpopMode | DpopOptions | undefined,
  now: () => number,
): DpopSettings {
  const options: DpopOptions = typeof option === 'string' ? { mode: option } : (option ?? {})
  if (typeof options !== 'object' || options === null) invalid('dpop must be a mode or an options object')
  const mode = options.mode ?? 'allowed'
  if (!MODES.has(mode)) invalid('dpop mode must be "allowed", "required" or "disabled"')
  const algorithms = options.algorithms ?? DPOP_SIGNING_ALGS
  if (!Array.isArray(algorithms) || algorithms.length === 0)
    invalid('dpop.algorithms must be a non-empty array')
  for (const alg of algorithms) {
    if (!isDpopSigningAlg(alg)) {
      invalid(
        `dpop.algorithms: ${JSON.stringify(alg)} is not allowed; use asymmetric algorithms (${DPOP_SIGNING_ALGS.join(', ')})`,
      )
    }
  }
  const iatWindowSec = options.iatWindowSec ?? DEFAULT_DPOP_IAT_WINDOW_SEC
  if (typeof iatWindowSec !== 'number' || !Number.isFinite(iatWindowSec) || iatWindowSec < 0) {
    invalid('dpop.iatWindowSec must be a non-negative number of seconds')
  }
  const { replayStore, replayCacheMaxEntries } = options
  if (replayStore !== undefined) {
    if (typeof replayStore?.recordIfNew !== 'function')
      invalid('dpop.replayStore must have a recordIfNew(key, ttlMs) method')
    if (replayCacheMaxEntries !== undefined)
      invalid('dpop.replayCacheMaxEntries applies only without dpop.replayStore')
  }
  return Object.freeze({
    mode,
    algorithms: Object.freeze([...algorithms]),
    algorithmSet: new Set<string>(algorithms),
    iatWindowSec,
    replayStore:
      replayStore ??
      new MemoryDpopReplayStore({
        maxEntries: positive(
          replayCacheMaxEntries,
          'dpop.replayCacheMaxEntries',
          DEFAULT_DPOP_REPLAY_MAX_ENTRIES,
        ),
        now,
      }),
    nonces: resolveNonces(options.nonce, now),
  })
}
