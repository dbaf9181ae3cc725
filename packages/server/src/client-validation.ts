/**
 * The rules a client registered while the server runs must follow (`registerClient`,
 * `updateClient`, the registration endpoint): those of the configuration's `clients` entries,
 * under the server's profile, DPoP and mTLS settings.
 *
 * @module client-validation
 */
import { type ClientMetadata, validateClientMetadata } from './client-metadata.js'
import { checkDpopBoundClient } from './dpop-settings.js'
import { checkFapi2Client } from './fapi2-profile.js'
import { validating } from './field-validation.js'
import { checkMtlsClient } from './mtls-settings.js'
import type { ResolvedConfig } from './resolve-config.js'

/**
 * Validates the metadata of one client registered at run time.
 *
 * @param resourceUris The configured resource indicators, which `resources` may name.
 * @throws {ConfigurationError} naming the first invalid member, e.g. `scope`.
 */
export function validateRuntimeClient(
  metadata: unknown,
  config: Pick<ResolvedConfig, 'profile' | 'dpop' | 'mtls'>,
  resourceUris: ReadonlySet<string>,
): ClientMetadata {
  const valid = validateClientMetadata(metadata, resourceUris)
  if (config.profile === 'fapi2') validating('client metadata', () => checkFapi2Client(valid, undefined))
  validating('client metadata', () => {
    checkDpopBoundClient(valid, config.dpop.mode, undefined)
    checkMtlsClient(valid, config.mtls, undefined)
  })
  return valid
}
