/**
 * The `dpop` option checked, with its defaults, and the one rule it sets for client metadata.
 *
 * @module dpop-settings
 */
import {
  DEFAULT_DPOP_IAT_WINDOW_SEC,
  DEFAULT_DPOP_NONCE_WINDOW_SEC,
  DPOP_SIGNING_ALGS,
  type DpopSigningAlg,
  isDpopSigningAlg,
  MIN_DPOP_NONCE_SECRET_BYTES,
} from '@oauth-m2m/core/internal'
import type { ClientMetadata } from './client-metadata.js'
import type { DpopMode } from './config.js'
import { fail, isObject, nonNegativeInt, positiveInt } from './field-validation.js'

/** The `dpop` option with every default filled in. */
export interface DpopSettings {
  readonly mode: DpopMode
  readonly algorithms: readonly DpopSigningAlg[]
  readonly iatWindowSec: number
  /** Server nonces, when on: the HMAC secret (`undefined`: a random one) and the window. */
  readonly nonce: { readonly secret: string | undefined; readonly windowSec: number } | undefined
}

const MODES: ReadonlySet<unknown> = new Set<DpopMode>(['allowed', 'required', 'disabled'])
const KEYS: ReadonlySet<string> = new Set(['mode', 'algorithms', 'iatWindowSec', 'nonce'])
const NONCE_KEYS: ReadonlySet<string> = new Set(['secret', 'windowSec'])

function resolveNonce(value: unknown): DpopSettings['nonce'] {
  if (value === undefined || value === false) return undefined
  if (value === true) return { secret: undefined, windowSec: DEFAULT_DPOP_NONCE_WINDOW_SEC }
  if (!isObject(value)) fail('dpop.nonce', 'must be a boolean or { secret?, windowSec? }')
  for (const key of Object.keys(value)) {
    if (!NONCE_KEYS.has(key)) fail(`dpop.nonce.${key}`, 'is not a known option')
  }
  const { secret } = value
  if (secret !== undefined) {
    // Never quoted back: the message says what is wrong, not what was given.
    if (typeof secret !== 'string' || Buffer.byteLength(secret, 'utf8') < MIN_DPOP_NONCE_SECRET_BYTES) {
      fail('dpop.nonce.secret', `must be a string of at least ${MIN_DPOP_NONCE_SECRET_BYTES} bytes`)
    }
  }
  return {
    secret: secret as string | undefined,
    windowSec: positiveInt(value.windowSec, 'dpop.nonce.windowSec', DEFAULT_DPOP_NONCE_WINDOW_SEC),
  }
}

/** Checks the `dpop` option (a mode or the settings object) and fills in the defaults. */
export function resolveDpop(value: unknown): DpopSettings {
  const options: unknown = typeof value === 'string' ? { mode: value } : (value ?? {})
  if (!isObject(options)) fail('dpop', 'must be "allowed", "required", "disabled" or an object')
  for (const key of Object.keys(options)) {
    if (!KEYS.has(key)) fail(`dpop.${key}`, 'is not a known option')
  }
  const mode = options.mode ?? 'allowed'
  if (!MODES.has(mode))
    fail(typeof value === 'string' ? 'dpop' : 'dpop.mode', 'must be "allowed", "required" or "disabled"')
  let algorithms: readonly DpopSigningAlg[] = DPOP_SIGNING_ALGS
  if (options.algorithms !== undefined) {
    const list = options.algorithms
    if (!Array.isArray(list) || list.length === 0) fail('dpop.algorithms', 'must be a non-empty array')
    list.forEach((alg, i) => {
      if (!isDpopSigningAlg(alg)) {
        fail(
          `dpop.algorithms[${i}]`,
          `must be an asymmetric algorithm: one of ${DPOP_SIGNING_ALGS.join(', ')}`,
        )
      }
    })
    algorithms = [...new Set(list as DpopSigningAlg[])]
  }
  return {
    mode: mode as DpopMode,
    algorithms,
    iatWindowSec: nonNegativeInt(options.iatWindowSec, 'dpop.iatWindowSec', DEFAULT_DPOP_IAT_WINDOW_SEC),
    nonce: resolveNonce(options.nonce),
  }
}

/**
 * Fails when a client registers `dpop_bound_access_tokens: true` on a server whose DPoP is
 * `disabled`: it could never get a token (RFC 9449 §5.2 makes the server refuse every request of
 * it without a proof, and a disabled server reads none).
 *
 * @param field Where the client sits (`clients[1]`), or `undefined` for a client registered at run time.
 */
export function checkDpopBoundClient(
  client: ClientMetadata,
  mode: DpopMode,
  field: string | undefined,
): void {
  if (mode === 'disabled' && client.dpop_bound_access_tokens === true) {
    const member = field === undefined ? 'dpop_bound_access_tokens' : `${field}.dpop_bound_access_tokens`
    fail(member, 'needs DPoP, which this server has disabled (dpop: "disabled")')
  }
}
