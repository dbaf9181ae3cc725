import { ConfigurationError } from '../errors.js'
import type { SecretSource } from './types.js'

/** Resolves a {@link SecretSource} to the current secret, refusing an empty one. */
export async function resolveSecret(source: SecretSource): Promise<string> {
  const secret = typeof source === 'function' ? await source() : source
  if (typeof secret !== 'string' || secret === '') {
    throw new ConfigurationError('the client secret is empty or not a string')
  }
  return secret
}

/** Refuses a secret option that can never produce a secret. */
export function assertSecretSource(source: unknown, strategy: string): asserts source is SecretSource {
  if (typeof source === 'function') return
  if (typeof source !== 'string' || source === '') {
    throw new ConfigurationError(
      `${strategy}: the secret must be a non-empty string or a function returning one`,
    )
  }
}
