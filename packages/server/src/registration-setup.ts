/**
 * Dynamic client registration wired into a server: where the client registry finds registered
 * clients, and the registration routes, both from the resolved configuration and the store.
 *
 * @module registration-setup
 */
import type { ClientRegistry, RegisteredClientsOptions } from './client-registry.js'
import { validateRuntimeClient } from './client-validation.js'
import { RegistrationEndpoint, type RegistrationRoutes } from './registration-endpoint.js'
import { readRegisteredClient, type ValidateClient } from './registration-metadata.js'
import type { ResolvedConfig } from './resolve-config.js'
import type { ServerStore } from './server-store.js'

/** The configuration's rules for a client registered at run time, under `config`. */
function clientValidator(config: ResolvedConfig): ValidateClient {
  const resourceUris = new Set(config.resources.map((resource) => resource.resource))
  return (metadata) => validateRuntimeClient(metadata, config, resourceUris)
}

/** Where the registry looks up registered clients; `undefined` when registration is off. */
export function registeredClients(
  config: ResolvedConfig,
  store: ServerStore,
): RegisteredClientsOptions | undefined {
  const settings = config.registration
  if (settings === undefined) return undefined
  const validate = clientValidator(config)
  return {
    store,
    read: (stored, nowMs) => readRegisteredClient(stored, nowMs, validate),
    scopes: settings.scopes,
    onInternalError: config.onInternalError,
  }
}

/** Makes the registration routes for an issuer's registration endpoint; `undefined` when off. */
export function registrationRoutes(
  config: ResolvedConfig,
  store: ServerStore,
  registry: ClientRegistry,
): ((url: string) => RegistrationRoutes) | undefined {
  const settings = config.registration
  if (settings === undefined) return undefined
  const validate = clientValidator(config)
  return (url) =>
    new RegistrationEndpoint({
      url,
      settings,
      store,
      registry,
      validate,
      realm: config.realm,
      now: config.now,
      onInternalError: config.onInternalError,
    })
}
