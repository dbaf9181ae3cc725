/**
 * Values derived from the `--seed` of `m2m-test-server`: the same seed gives the same secrets and
 * client ids on every run, so a suite in another language can hard-code them. Each value is the
 * HMAC-SHA256 of the seed and a label naming what it is for, so no two values share bytes.
 *
 * @module cli/seeded-values
 */
import { createHmac } from 'node:crypto'

/** 32 bytes for `label`: HMAC-SHA256 keyed with the seed. */
export function seededBytes(seed: string, label: string): Buffer {
  return createHmac('sha256', seed).update(label).digest()
}

/** A client secret for `label`, 43 base64url characters (256 bits). */
export function seededSecret(seed: string, label: string): string {
  return seededBytes(seed, label).toString('base64url')
}

/** The id of the `n`-th client the admin endpoint registers without a `client_id` (from 1). */
export function seededClientId(seed: string, n: number): string {
  return `client-${seededBytes(seed, `client-id ${n}`).toString('base64url').slice(0, 16)}`
}
