/**
 * Validation of the `signing` option, with its defaults.
 *
 * @module signing-config
 */
import type { JWK } from 'jose'
import type { SigningConfig } from '../config.js'
import { fail, isObject, positiveInt } from '../field-validation.js'
import { isSigningAlg, SIGNING_ALGS, type SigningAlg } from './signing-key.js'

/** The `signing` option, validated, with its defaults. */
export interface SigningSettings {
  alg?: SigningAlg
  keys?: JWK[]
  /** `undefined`: no scheduled rotation. */
  rotateEverySec: number | undefined
  refreshEverySec: number
}

const SIGNING_KEYS: ReadonlySet<string> = new Set<keyof SigningConfig>([
  'alg',
  'keys',
  'rotateEverySec',
  'refreshEverySec',
])

/** Longest `refreshEverySec`: a day, well inside what a node timer can wait. */
const MAX_REFRESH_EVERY_SEC = 86_400

/** Validates the `signing` option (fails naming the field). */
export function resolveSigning(value: unknown): SigningSettings {
  if (value === undefined) return { rotateEverySec: undefined, refreshEverySec: 30 }
  if (!isObject(value)) fail('signing', 'must be an object')
  for (const key of Object.keys(value)) {
    if (!SIGNING_KEYS.has(key)) fail(`signing.${key}`, 'is not a known option')
  }
  if (value.alg !== undefined && !isSigningAlg(value.alg)) {
    fail('signing.alg', `must be one of ${SIGNING_ALGS.join(', ')}`)
  }
  if (value.keys !== undefined) {
    if (!Array.isArray(value.keys) || value.keys.length === 0)
      fail('signing.keys', 'must be a non-empty array')
    value.keys.forEach((key, i) => {
      if (!isObject(key) || typeof key.kty !== 'string' || key.d === undefined) {
        fail(`signing.keys[${i}]`, 'must be a private JWK')
      }
    })
  }
  const refreshEverySec = positiveInt(value.refreshEverySec, 'signing.refreshEverySec', 30)
  if (refreshEverySec > MAX_REFRESH_EVERY_SEC) {
    fail('signing.refreshEverySec', `must be at most ${MAX_REFRESH_EVERY_SEC} (one day)`)
  }
  return {
    ...(value.alg === undefined ? {} : { alg: value.alg as SigningAlg }),
    ...(value.keys === undefined ? {} : { keys: value.keys as JWK[] }),
    rotateEverySec:
      value.rotateEverySec === undefined
        ? undefined
        : positiveInt(value.rotateEverySec, 'signing.rotateEverySec', 0),
    refreshEverySec,
  }
}
