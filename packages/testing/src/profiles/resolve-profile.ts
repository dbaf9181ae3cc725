/**
 * The `profile` option of the test server: a provider's name, or its settings, resolved into a
 * {@link ProviderProfile}.
 *
 * @module profiles/resolve-profile
 */
import { ConfigurationError } from '@oauth-m2m/core'
import { type Auth0ProfileSettings, auth0Profile } from './auth0-profile.js'
import { type CognitoProfileSettings, cognitoProfile } from './cognito-profile.js'
import { type EntraProfileSettings, entraProfile } from './entra-profile.js'
import { type KeycloakProfileSettings, keycloakProfile } from './keycloak-profile.js'
import { type OktaProfileSettings, oktaProfile } from './okta-profile.js'
import { ProfileSettingsCheck } from './profile-settings.js'
import type { ProfileUrlOptions } from './profile-urls.js'
import { PROFILE_NAMES, type ProfileName, type ProviderProfile } from './provider-profile.js'

/** Settings of the reference server's own profile (RFC 9068 tokens under the test issuer); it has none. */
export interface Rfc9068ProfileSettings {
  /** The profile's name. */
  readonly name: 'rfc9068'
}

/** A provider profile with its settings; every setting has a default. */
export type ProfileSettings =
  | Rfc9068ProfileSettings
  | EntraProfileSettings
  | Auth0ProfileSettings
  | OktaProfileSettings
  | KeycloakProfileSettings
  | CognitoProfileSettings

/** The `profile` option: a profile's name (all settings at their defaults), or its settings. */
export type ProfileOption = ProfileName | ProfileSettings

/**
 * The provider profile `option` names, or `undefined` for `'rfc9068'` (the server's own tokens,
 * no provider rules).
 *
 * @throws {ConfigurationError} for an unknown profile name, a setting the profile does not have or
 *   of the wrong type or shape (naming it), or settings the provider's verifier preset refuses
 *   (e.g. an Entra tenant id that is no GUID).
 */
export function resolveProfile(
  option: ProfileOption | undefined,
  options: ProfileUrlOptions = {},
): ProviderProfile | undefined {
  const settings: unknown = typeof option === 'string' ? { name: option } : (option ?? { name: 'rfc9068' })
  const name =
    typeof settings === 'object' && settings !== null ? (settings as { name?: unknown }).name : undefined
  if (typeof name !== 'string' || !(PROFILE_NAMES as readonly string[]).includes(name)) {
    throw new ConfigurationError(`@oauth-m2m/testing: profile must be one of ${PROFILE_NAMES.join(', ')}`)
  }
  const chosen = settings as ProfileSettings
  switch (chosen.name) {
    case 'rfc9068':
      // It has no settings; one given is a mistake, not something to ignore.
      new ProfileSettingsCheck('rfc9068', chosen, [])
      return undefined
    case 'entra':
      return entraProfile(chosen, options)
    case 'auth0':
      return auth0Profile(chosen, options)
    case 'okta':
      return oktaProfile(chosen, options)
    case 'keycloak':
      return keycloakProfile(chosen, options)
    case 'cognito':
      return cognitoProfile(chosen, options)
  }
}
