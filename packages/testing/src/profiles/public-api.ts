/**
 * What users of `@oauth-m2m/testing` name of the provider profiles: the `profile` option's
 * types and the made-up defaults each profile uses when a setting is left out.
 *
 * @module profiles/public-api
 */
export {
  AUTH0_TEST_AUDIENCE,
  AUTH0_TEST_CLIENT_ID,
  AUTH0_TEST_DOMAIN,
  type Auth0ProfileSettings,
  type Auth0TokenDialect,
} from './auth0-profile.js'
export {
  COGNITO_TEST_CLIENT_ID,
  COGNITO_TEST_RESOURCE_SERVER,
  type CognitoProfileSettings,
} from './cognito-profile.js'
export {
  ENTRA_TEST_API_APP_ID,
  ENTRA_TEST_CLIENT_ID,
  ENTRA_TEST_TENANT_ID,
  type EntraProfileSettings,
} from './entra-profile.js'
export {
  KEYCLOAK_TEST_AUDIENCE,
  KEYCLOAK_TEST_BASE_URL,
  KEYCLOAK_TEST_CLIENT_ID,
  type KeycloakProfileSettings,
} from './keycloak-profile.js'
export { OKTA_TEST_CLIENT_ID, OKTA_TEST_DOMAIN, type OktaProfileSettings } from './okta-profile.js'
export type { IssuerOrigin, ProfileServerOptions } from './profile-binding.js'
export { PROFILE_NAMES, type ProfileName } from './provider-profile.js'
export type { ProfileOption, ProfileSettings, Rfc9068ProfileSettings } from './resolve-profile.js'
