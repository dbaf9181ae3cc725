/**
 * Registered clients' metadata (RFC 7591 names, plus a few extensions in the same style): its
 * type, the view of it without secrets, and the rules a registration must follow, the same for the
 * configuration's `clients` and for clients registered at run time.
 *
 * @module client-metadata
 */
import { parseScopeParameter } from '@oauth-m2m/core/internal'
import type { JWK } from 'jose'
import { ASSERTION_ALGS } from './client-assertion.js'
import { fail, isObject, optionalString, stringArray, validating } from './field-validation.js'
import { checkMtlsMembers } from './mtls-client-metadata.js'

/** Client authentication methods a client may register (RFC 7591 `token_endpoint_auth_method`). */
export type TokenEndpointAuthMethod =
  | 'client_secret_basic'
  | 'client_secret_post'
  | 'client_secret_jwt'
  | 'private_key_jwt'
  | 'tls_client_auth'
  | 'self_signed_tls_client_auth'
  | 'none'

/** Every {@link TokenEndpointAuthMethod}, in the order error messages list them. */
export const TOKEN_ENDPOINT_AUTH_METHODS: readonly TokenEndpointAuthMethod[] = [
  'client_secret_basic',
  'client_secret_post',
  'client_secret_jwt',
  'private_key_jwt',
  'tls_client_auth',
  'self_signed_tls_client_auth',
  'none',
]

/**
 * One registered client, described with RFC 7591 metadata names, plus a few extensions in the same
 * style (`client_secrets`, `client_secret_hash`, `resources`, `allow_multiple_resources`), and
 * RFC 9449's `dpop_bound_access_tokens`. Other RFC 7591 members (`client_name`, …) are accepted
 * and ignored.
 */
export interface ClientMetadata {
  /** The client identifier. */
  client_id: string
  /** The client secret, hashed at load. */
  client_secret?: string
  /** Further secrets accepted at the same time, so that a secret can be rotated without downtime. */
  client_secrets?: string[]
  /**
   * Precomputed secrets instead of clear ones: base64url of the SHA-256 digest of each secret.
   * Not usable with `client_secret_jwt`, which needs the secret itself as the HMAC key.
   */
  client_secret_hash?: string | string[]
  /** How the client authenticates. Default `client_secret_basic` (RFC 7591 §2). */
  token_endpoint_auth_method?: TokenEndpointAuthMethod
  /** Grants the client may use. Default `["client_credentials"]`, the only grant this server offers. */
  grant_types?: string[]
  /** Space-separated scopes the client may request; also what it gets when it asks for none. */
  scope?: string
  /**
   * The client's public keys for `private_key_jwt`; for `self_signed_tls_client_auth`, the keys
   * whose `x5c` holds the self-signed certificates it may present (the first of each).
   */
  jwks?: { keys: JWK[] }
  /** Where the client publishes its public keys (`private_key_jwt`, `self_signed_tls_client_auth`). */
  jwks_uri?: string
  /** The one JWS algorithm the client's assertions must use. Default: any allowed for the method. */
  token_endpoint_auth_signing_alg?: string
  /** Resource indicators (RFC 8707) the client may request. Default: every configured resource. */
  resources?: string[]
  /** Whether one token may name several resources (an `aud` array). Default `false`. */
  allow_multiple_resources?: boolean
  /**
   * Whether the client always uses DPoP (RFC 9449 §5.2): its token requests without a `DPoP`
   * proof are refused with 400 `invalid_dpop_proof`. Default `false`.
   */
  dpop_bound_access_tokens?: boolean
  /**
   * `tls_client_auth` (RFC 8705 §2.1.2): the RFC 4514 subject DN of the client's certificate,
   * e.g. `CN=orders,O=Example,C=DE`. Exactly one of this and the four `tls_client_auth_san_*`
   * members is required for that method, and none is accepted for another.
   */
  tls_client_auth_subject_dn?: string
  /** `tls_client_auth`: a dNSName SAN of the client's certificate (exact, no wildcard). */
  tls_client_auth_san_dns?: string
  /** `tls_client_auth`: a uniformResourceIdentifier SAN of the client's certificate (exact). */
  tls_client_auth_san_uri?: string
  /** `tls_client_auth`: an iPAddress SAN of the client's certificate, IPv4 or IPv6. */
  tls_client_auth_san_ip?: string
  /** `tls_client_auth`: an rfc822Name SAN of the client's certificate. */
  tls_client_auth_san_email?: string
  /**
   * Whether the client's access tokens are bound to the certificate it presents (RFC 8705 §3):
   * `cnf["x5t#S256"]`, whatever its authentication method; a token request without a certificate
   * is refused with 401 `invalid_client`. Needs the server option `mtls`. Default `false`.
   */
  tls_client_certificate_bound_access_tokens?: boolean
  /** Other RFC 7591 metadata, ignored. */
  [member: string]: unknown
}

/** The members of {@link ClientMetadata} that hold a secret: never shown back. */
export const SECRET_MEMBERS: readonly string[] = [
  'client_secret',
  'client_secrets',
  'client_secret_hash',
] satisfies (keyof ClientMetadata)[]

/**
 * A registered client as the server shows it (`getClient`): its RFC 7591 metadata with the
 * server's defaults filled in (`token_endpoint_auth_method`, `grant_types`) and every secret left
 * out — no `client_secret`, `client_secrets` or `client_secret_hash`. Public keys (`jwks`) are not
 * secret and are shown.
 */
export type PublicClientMetadata = {
  // A key-remapping mapped type, not Omit: Omit over an index signature drops the named members.
  [K in keyof ClientMetadata as K extends 'client_secret' | 'client_secrets' | 'client_secret_hash'
    ? never
    : K]: ClientMetadata[K]
} & Required<Pick<ClientMetadata, 'token_endpoint_auth_method' | 'grant_types'>>

const SHA256_B64URL = /^[A-Za-z0-9_-]{43}$/

function validateJwks(value: unknown, field: string): void {
  if (!isObject(value) || !Array.isArray(value.keys) || value.keys.length === 0) {
    fail(field, 'must be a JWK Set object with a non-empty "keys" array')
  }
  value.keys.forEach((key: unknown, i: number) => {
    if (!isObject(key) || typeof key.kty !== 'string') fail(`${field}.keys[${i}]`, 'must be a JWK with "kty"')
    if (key.kty === 'oct') fail(`${field}.keys[${i}]`, 'must be a public key, not a symmetric one')
    if (key.d !== undefined)
      fail(`${field}.keys[${i}]`, 'must be a public key; it holds private key material')
  })
}

/** Whether `value` is plain JSON data (no functions, class instances, cycles or non-finite numbers). */
function isJsonValue(value: unknown, ancestors: object[] = []): boolean {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true
  if (typeof value === 'number') return Number.isFinite(value)
  if (typeof value !== 'object' || ancestors.includes(value)) return false
  const prototype = Object.getPrototypeOf(value)
  if (!Array.isArray(value) && prototype !== Object.prototype && prototype !== null) return false
  const path = [...ancestors, value]
  return Object.values(value).every((item) => isJsonValue(item, path))
}

/**
 * Checks one client's metadata, failing on the first invalid member (see `field-validation`).
 *
 * @param field Where the client sits (`clients[1]`), prefixed to member names; `undefined` names
 *   the members alone.
 * @param resourceUris The configured resource indicators, which `resources` may name.
 * @param seenIds The `client_id`s already checked; this one is added.
 */
export function checkClient(
  value: unknown,
  field: string | undefined,
  resourceUris: ReadonlySet<string>,
  seenIds: Set<string>,
): ClientMetadata {
  const member = (name: string) => (field === undefined ? name : `${field}.${name}`)
  if (!isObject(value)) fail(field ?? 'client metadata', 'must be an object of RFC 7591 client metadata')
  for (const [name, given] of Object.entries(value)) {
    // RFC 7591 metadata is JSON; anything else could not be shown back by getClient. An
    // undefined member is simply absent.
    if (given !== undefined && !isJsonValue(given)) fail(member(name), 'must be a JSON value')
  }
  const clientId = optionalString(value.client_id, member('client_id'))
  if (clientId === undefined) fail(member('client_id'), 'is required')
  if (seenIds.has(clientId)) fail(member('client_id'), 'is registered twice')
  seenIds.add(clientId)

  const method = value.token_endpoint_auth_method ?? 'client_secret_basic'
  if (!TOKEN_ENDPOINT_AUTH_METHODS.includes(method as TokenEndpointAuthMethod)) {
    fail(member('token_endpoint_auth_method'), `must be one of ${TOKEN_ENDPOINT_AUTH_METHODS.join(', ')}`)
  }
  optionalString(value.client_secret, member('client_secret'))
  if (value.client_secrets !== undefined) stringArray(value.client_secrets, member('client_secrets'))
  const hashes = value.client_secret_hash
  if (hashes !== undefined) {
    const list = typeof hashes === 'string' ? [hashes] : stringArray(hashes, member('client_secret_hash'))
    for (const hash of list) {
      if (!SHA256_B64URL.test(hash)) {
        fail(member('client_secret_hash'), 'must be the base64url SHA-256 digest of a secret (43 characters)')
      }
    }
  }
  const hasClearSecret =
    value.client_secret !== undefined || (value.client_secrets as unknown[] | undefined)?.length
  const usesSecret = method === 'client_secret_basic' || method === 'client_secret_post'
  if (usesSecret && !hasClearSecret && hashes === undefined) {
    fail(member('client_secret'), `is required for ${method}`)
  }
  if (method === 'client_secret_jwt' && !hasClearSecret) {
    fail(member('client_secret'), 'is required for client_secret_jwt (the secret is the HMAC key)')
  }
  if (value.jwks !== undefined) validateJwks(value.jwks, member('jwks'))
  const jwksUri = optionalString(value.jwks_uri, member('jwks_uri'))
  if (jwksUri !== undefined && (!URL.canParse(jwksUri) || !/^https?:/.test(jwksUri))) {
    fail(member('jwks_uri'), 'must be an http or https URL')
  }
  if (value.jwks !== undefined && jwksUri !== undefined)
    fail(member('jwks_uri'), 'must not be given with jwks')
  if (method === 'private_key_jwt' && value.jwks === undefined && jwksUri === undefined) {
    fail(member('jwks'), 'or jwks_uri is required for private_key_jwt')
  }
  checkMtlsMembers(value, method, member)
  const signingAlg = optionalString(
    value.token_endpoint_auth_signing_alg,
    member('token_endpoint_auth_signing_alg'),
  )
  if (signingAlg !== undefined) {
    const allowed: readonly string[] =
      method === 'client_secret_jwt'
        ? ASSERTION_ALGS.client_secret_jwt
        : method === 'private_key_jwt'
          ? ASSERTION_ALGS.private_key_jwt
          : []
    if (!allowed.includes(signingAlg)) {
      fail(member('token_endpoint_auth_signing_alg'), `is not an algorithm allowed for ${String(method)}`)
    }
  }
  if (value.grant_types !== undefined) stringArray(value.grant_types, member('grant_types'))
  if (value.scope !== undefined) {
    if (typeof value.scope !== 'string') fail(member('scope'), 'must be a space-separated string')
    // The same grammar as a requested scope, so a registration that works in the config file is
    // one a client can ask for verbatim. Empty is allowed: a client (a resource server that only
    // introspects, say) that may ask for no scope at all.
    if (value.scope !== '' && parseScopeParameter(value.scope) === undefined) {
      fail(member('scope'), 'must be RFC 6749 scope tokens separated by single spaces')
    }
  }
  if (value.resources !== undefined) {
    stringArray(value.resources, member('resources')).forEach((uri, i) => {
      if (!resourceUris.has(uri)) fail(member(`resources[${i}]`), 'names a resource missing from "resources"')
    })
  }
  if (value.allow_multiple_resources !== undefined && typeof value.allow_multiple_resources !== 'boolean') {
    fail(member('allow_multiple_resources'), 'must be a boolean')
  }
  if (value.dpop_bound_access_tokens !== undefined && typeof value.dpop_bound_access_tokens !== 'boolean') {
    fail(member('dpop_bound_access_tokens'), 'must be a boolean')
  }
  return value as ClientMetadata
}

/**
 * Validates the metadata of one client registered at run time, by the rules of the config file's
 * `clients` entries. Whether the `client_id` is free is the registry's to say.
 *
 * @param resourceUris The configured resource indicators, which `resources` may name.
 * @throws {ConfigurationError} naming the first invalid member, e.g. `scope`.
 */
export function validateClientMetadata(value: unknown, resourceUris: ReadonlySet<string>): ClientMetadata {
  return validating('client metadata', () => checkClient(value, undefined, resourceUris, new Set()))
}
