/**
 * The client metadata a registration request (RFC 7591 §2, RFC 7592 §2.2) may set, checked by the
 * rules of the configuration's `clients` (one validator for both, given by the caller), plus what
 * registration adds: the members this server understands are kept and every other one is dropped
 * (RFC 7591 §2), only confidential methods that work from a secret digest or a public key, the
 * `client_credentials` grant alone, and scopes within `registration.scopes`.
 *
 * @module registration-metadata
 */
import { ConfigurationError } from '@oauth-m2m/core'
import { parseScopeParameter } from '@oauth-m2m/core/internal'
import { TLS_CLIENT_AUTH_MEMBERS } from './certificate-match.js'
import type { ClientMetadata } from './client-metadata.js'
import type { LoadedClient } from './client-registry.js'
import type { RegistrationSettings } from './registration-config.js'
import { readRecord, recordClientMetadata, usesClientSecret } from './registration-record.js'
import type { RegistrationErrorCode } from './registration-route.js'
import type { StoredClient } from './server-store.js'

/** Checks one client's metadata by the configuration's rules; throws a {@link ConfigurationError}. */
export type ValidateClient = (metadata: unknown) => ClientMetadata

/** Members with a meaning for this server, kept in a registration. */
const RULED_MEMBERS: readonly string[] = [
  'token_endpoint_auth_method',
  'grant_types',
  'scope',
  'jwks',
  'jwks_uri',
  'token_endpoint_auth_signing_alg',
  'resources',
  'allow_multiple_resources',
  'dpop_bound_access_tokens',
  ...TLS_CLIENT_AUTH_MEMBERS,
  'tls_client_certificate_bound_access_tokens',
]

/** RFC 7591 §2 members that describe the client to people: kept and shown, not used. */
const DESCRIPTIVE_STRINGS: readonly string[] = ['client_name', 'software_id', 'software_version']
const DESCRIPTIVE_URLS: readonly string[] = ['client_uri', 'logo_uri', 'tos_uri', 'policy_uri']

/** Methods a client can register here: confidential, and not `client_secret_jwt` (see below). */
const REFUSED_METHODS: ReadonlyMap<string, string> = new Map([
  [
    'client_secret_jwt',
    'token_endpoint_auth_method client_secret_jwt cannot be registered: the server keeps only a digest of a registered client secret, and client_secret_jwt needs the secret itself as the HMAC key (use private_key_jwt)',
  ],
  [
    'none',
    'token_endpoint_auth_method none cannot be registered: client_credentials is for confidential clients',
  ],
])

/** Stands in for the secret a secret method needs while the metadata is validated. */
const PLACEHOLDER_DIGEST = 'A'.repeat(43)

/** A registration request refused: the RFC 7591 §3.2.2 error and its description. */
export interface MetadataError {
  readonly error: RegistrationErrorCode
  readonly description: string
}

/** The accepted metadata (without `client_id` and secrets), or why it is refused. */
export type MetadataResult =
  | { metadata: Readonly<Record<string, unknown>>; error?: undefined }
  | { metadata?: undefined; error: MetadataError }

function refused(
  description: string,
  error: RegistrationErrorCode = 'invalid_client_metadata',
): MetadataResult {
  return { error: { error, description } }
}

function isHttpUrl(value: string): boolean {
  return URL.canParse(value) && /^https?:$/.test(new URL(value).protocol)
}

/** The descriptive members, checked for their type; the first problem, or `undefined`. */
function descriptiveProblem(picked: Record<string, unknown>): string | undefined {
  for (const name of DESCRIPTIVE_STRINGS) {
    const value = picked[name]
    if (value !== undefined && (typeof value !== 'string' || value === ''))
      return `${name} must be a non-empty string`
  }
  for (const name of DESCRIPTIVE_URLS) {
    const value = picked[name]
    if (value !== undefined && (typeof value !== 'string' || !isHttpUrl(value)))
      return `${name} must be an http or https URL`
  }
  const contacts = picked.contacts
  if (
    contacts !== undefined &&
    (!Array.isArray(contacts) || contacts.some((contact) => typeof contact !== 'string' || contact === ''))
  ) {
    return 'contacts must be an array of non-empty strings'
  }
  return undefined
}

/** What registration adds to the configuration's rules; the first problem, or `undefined`. */
function registrationProblem(
  picked: Record<string, unknown>,
  settings: RegistrationSettings,
): string | undefined {
  const method = picked.token_endpoint_auth_method
  if (typeof method === 'string' && REFUSED_METHODS.has(method)) return REFUSED_METHODS.get(method)
  const grants = picked.grant_types
  if (
    Array.isArray(grants) &&
    (grants.length === 0 || grants.some((grant) => grant !== 'client_credentials'))
  ) {
    return 'grant_types must be ["client_credentials"]: the only grant this server offers'
  }
  const scope =
    typeof picked.scope === 'string' && picked.scope !== '' ? parseScopeParameter(picked.scope) : undefined
  if (scope?.some((token) => !settings.scopes.has(token))) {
    return 'scope holds a scope that registered clients may not have (see scopes_supported)'
  }
  return descriptiveProblem(picked)
}

/**
 * The metadata of a registration or update request, accepted or refused. Members this server does
 * not understand are dropped, and so are members whose value is `null` (RFC 7592 §2.2 lets the
 * server ignore them). `client_id`, secrets and the RFC 7592 §3 response members are not client
 * metadata here: the caller checks what it must of them.
 *
 * @param clientId The client's id, for the validator.
 * @param validate The configuration's rules for a client (`validateRuntimeClient`).
 */
export function acceptMetadata(
  request: Readonly<Record<string, unknown>>,
  clientId: string,
  settings: RegistrationSettings,
  validate: ValidateClient,
): MetadataResult {
  const statement = request.software_statement
  if (statement !== undefined && statement !== null) {
    // A JWS compact serialization has three parts; anything else is not a software statement.
    return typeof statement === 'string' && statement.split('.').length === 3
      ? refused('this server approves no software statement', 'unapproved_software_statement')
      : refused('software_statement must be a signed JWT', 'invalid_software_statement')
  }
  const redirectUris = request.redirect_uris
  if (
    redirectUris !== undefined &&
    redirectUris !== null &&
    !(Array.isArray(redirectUris) && redirectUris.length === 0)
  ) {
    return refused(
      'redirect_uris must be left out: this server has no redirect-based grant',
      'invalid_redirect_uri',
    )
  }
  const responseTypes = request.response_types
  if (
    responseTypes !== undefined &&
    responseTypes !== null &&
    !(Array.isArray(responseTypes) && responseTypes.length === 0)
  ) {
    return refused('response_types must be left out: this server has no authorization endpoint')
  }
  const picked: Record<string, unknown> = {}
  for (const name of [...RULED_MEMBERS, ...DESCRIPTIVE_STRINGS, ...DESCRIPTIVE_URLS, 'contacts']) {
    const value = request[name]
    if (value !== undefined && value !== null) picked[name] = value
  }
  const problem = registrationProblem(picked, settings)
  if (problem !== undefined) return refused(problem)
  const metadata = {
    ...picked,
    token_endpoint_auth_method: picked.token_endpoint_auth_method ?? 'client_secret_basic',
    grant_types: ['client_credentials'],
  }
  const error = validationError(metadata, clientId, validate)
  return error === undefined ? { metadata } : refused(error)
}

/**
 * Why the configuration's rules refuse `metadata` (accepted metadata without `client_id` and
 * secrets) as the client `clientId`, or `undefined` when they accept it. A secret method is
 * checked as if its secret were there: the server issues it.
 */
export function validationError(
  metadata: Readonly<Record<string, unknown>>,
  clientId: string,
  validate: ValidateClient,
): string | undefined {
  const candidate = {
    ...metadata,
    client_id: clientId,
    ...(usesClientSecret(metadata.token_endpoint_auth_method)
      ? { client_secret_hash: PLACEHOLDER_DIGEST }
      : {}),
  }
  try {
    validate(candidate)
    return undefined
  } catch (error) {
    if (error instanceof ConfigurationError) return error.message
    throw error
  }
}

/**
 * A stored client as the registry prepares it (see {@link recordClientMetadata}): `undefined` when
 * it is not a record this server wrote.
 *
 * @throws {ConfigurationError} when the record breaks this server's rules (its configuration
 *   changed since the client registered, or another instance has another one).
 */
export function readRegisteredClient(
  stored: StoredClient,
  nowMs: number,
  validate: ValidateClient,
): LoadedClient | undefined {
  const record = readRecord(stored)
  if (record === undefined) return undefined
  const problem = validationError(record.metadata, record.client_id, validate)
  if (problem !== undefined) {
    throw new ConfigurationError(
      `registered client ${record.client_id} breaks this server's rules (${problem})`,
    )
  }
  return recordClientMetadata(record, nowMs)
}
