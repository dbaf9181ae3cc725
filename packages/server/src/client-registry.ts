/**
 * The registered clients, each prepared once when it is registered (at start or at run time) for
 * the hot path: secrets hashed, scopes split, assertion keys and algorithm allowlists resolved.
 * A change replaces a client's prepared entry in one step, so every request sees either the old
 * registration or the new one, never a mix.
 *
 * @module client-registry
 */
import { ConfigurationError, JwksCache } from '@oauth-m2m/core'
import { createLocalJWKSet, importJWK, type JWK, type JWTVerifyGetKey } from 'jose'
import { type CertificateMatcher, certificateMatcher, TLS_CLIENT_AUTH_MEMBERS } from './certificate-match.js'
import { ASSERTION_ALGS } from './client-assertion.js'
import {
  type ClientMetadata,
  type PublicClientMetadata,
  SECRET_MEMBERS,
  type TokenEndpointAuthMethod,
} from './client-metadata.js'
import { registeredCertificates } from './mtls-client-metadata.js'
import type { SecretHasher } from './secret-hash.js'

/** A client as the endpoints use it. */
export interface RegisteredClient {
  /** The `client_id`. */
  readonly id: string
  /** The one authentication method this client may use. */
  readonly method: TokenEndpointAuthMethod
  /** Keyed hashes of every active secret (basic/post); empty for other methods. */
  readonly secretHashes: readonly Buffer[]
  /** Every active clear secret as an HMAC key, for `client_secret_jwt` assertions. */
  readonly hmacKeys: readonly Uint8Array[]
  /** JWS algorithms accepted on this client's assertions. */
  readonly assertionAlgs: readonly string[]
  /** Resolves the public key of a `private_key_jwt` assertion (registered `jwks` or `jwks_uri`). */
  readonly assertionKeys: JWTVerifyGetKey | undefined
  /** Whether `client_credentials` is among the client's `grant_types`. */
  readonly mayUseClientCredentials: boolean
  /** The scopes the client may request. */
  readonly scopes: ReadonlySet<string>
  /** What the client gets when it asks for no scope: all of its registered scope. */
  readonly defaultScope: string
  /** Resources the client may name; `undefined` means every configured resource. */
  readonly allowedResources: ReadonlySet<string> | undefined
  /** Whether one token may name several resources. */
  readonly allowMultipleResources: boolean
  /** Whether every token request of this client needs a DPoP proof (`dpop_bound_access_tokens`). */
  readonly dpopBound: boolean
  /** `tls_client_auth`: whether a certificate is the registered one (subject DN or SAN). */
  readonly certificateMatcher: CertificateMatcher | undefined
  /**
   * `self_signed_tls_client_auth`: the thumbprints of the certificates it may present (the first
   * `x5c` of each key of its `jwks`, or of its `jwks_uri` key set as last fetched).
   */
  readonly selfSignedCertificates: (() => ReadonlySet<string> | Promise<ReadonlySet<string>>) | undefined
  /** Whether its tokens are bound to its certificate (`tls_client_certificate_bound_access_tokens`). */
  readonly certificateBound: boolean
  /** The registration without its secrets, as `getClient` shows it. */
  readonly publicMetadata: Readonly<PublicClientMetadata>
}

/** Options of {@link ClientRegistry}. */
export interface ClientRegistryOptions {
  /** Hashes the clients' secrets. */
  hasher: SecretHasher
  /** Time-out for fetching a client's `jwks_uri`, in milliseconds. */
  jwksUriTimeoutMs: number
  /** The server's clock, in epoch milliseconds: a fetched `jwks_uri` key set expires by it. */
  now: () => number
}

function toList(value: string | string[] | undefined): string[] {
  if (value === undefined) return []
  return typeof value === 'string' ? [value] : value
}

/** A key resolver over the core JWKS cache, importing each JWK once per algorithm. */
function remoteKeys(jwksUri: string, options: ClientRegistryOptions): JWTVerifyGetKey {
  const cache = new JwksCache(jwksUri, { timeoutMs: options.jwksUriTimeoutMs, now: options.now })
  const imported = new WeakMap<JWK, Map<string, ReturnType<typeof importJWK>>>()
  return async (header) => {
    const jwk = await cache.getKey({ kid: header.kid, alg: header.alg })
    let byAlg = imported.get(jwk)
    if (byAlg === undefined) {
      byAlg = new Map()
      imported.set(jwk, byAlg)
    }
    let key = byAlg.get(header.alg)
    if (key === undefined) {
      key = importJWK(jwk, header.alg)
      byAlg.set(header.alg, key)
    }
    return key
  }
}

/** The certificates of a `jwks_uri` key set, through the core JWKS cache; thumbprints computed once per set. */
function remoteCertificates(
  jwksUri: string,
  options: ClientRegistryOptions,
): () => Promise<ReadonlySet<string>> {
  const cache = new JwksCache(jwksUri, { timeoutMs: options.jwksUriTimeoutMs, now: options.now })
  let last: { keys: JWK[]; thumbprints: ReadonlySet<string> } | undefined
  return async () => {
    // A copy of the cached set each time, holding the same key objects until the set is re-fetched.
    const keys = await cache.getKeys()
    if (
      last === undefined ||
      last.keys.length !== keys.length ||
      last.keys.some((key, i) => key !== keys[i])
    ) {
      last = { keys, thumbprints: new Set(registeredCertificates({ keys })) }
    }
    return last.thumbprints
  }
}

function selfSignedCertificates(
  metadata: ClientMetadata,
  options: ClientRegistryOptions,
): RegisteredClient['selfSignedCertificates'] {
  if (metadata.jwks !== undefined) {
    const thumbprints: ReadonlySet<string> = new Set(registeredCertificates(metadata.jwks))
    return () => thumbprints
  }
  return remoteCertificates(metadata.jwks_uri as string, options)
}

function tlsClientAuthMatcher(metadata: ClientMetadata): CertificateMatcher | undefined {
  const member = TLS_CLIENT_AUTH_MEMBERS.find((name) => typeof metadata[name] === 'string')
  return member === undefined ? undefined : certificateMatcher(member, metadata[member] as string)
}

const SECRET_MEMBER_NAMES: ReadonlySet<string> = new Set(SECRET_MEMBERS)

function publicMetadata(metadata: ClientMetadata, method: TokenEndpointAuthMethod): PublicClientMetadata {
  const shown: PublicClientMetadata = {
    client_id: metadata.client_id,
    token_endpoint_auth_method: method,
    grant_types: ['client_credentials'],
  }
  for (const [name, value] of Object.entries(metadata)) {
    if (!SECRET_MEMBER_NAMES.has(name) && value !== undefined) shown[name] = value
  }
  // A copy: the caller keeps its object and may change it; the registration must not follow.
  return Object.freeze(structuredClone(shown))
}

function prepare(metadata: ClientMetadata, options: ClientRegistryOptions): RegisteredClient {
  const method = metadata.token_endpoint_auth_method ?? 'client_secret_basic'
  const clearSecrets = [...toList(metadata.client_secret), ...toList(metadata.client_secrets)]
  const usesSecretHash = method === 'client_secret_basic' || method === 'client_secret_post'
  const secretHashes = usesSecretHash
    ? [
        ...clearSecrets.map((s) => options.hasher.hashSecret(s)),
        ...toList(metadata.client_secret_hash).map((h) =>
          options.hasher.hashDigest(Buffer.from(h, 'base64url')),
        ),
      ]
    : []
  const encoder = new TextEncoder()
  const hmacKeys = method === 'client_secret_jwt' ? clearSecrets.map((s) => encoder.encode(s)) : []
  let assertionAlgs: readonly string[] = []
  if (method === 'client_secret_jwt' || method === 'private_key_jwt') {
    assertionAlgs = metadata.token_endpoint_auth_signing_alg
      ? [metadata.token_endpoint_auth_signing_alg]
      : ASSERTION_ALGS[method]
  }
  let assertionKeys: JWTVerifyGetKey | undefined
  if (method === 'private_key_jwt') {
    assertionKeys = metadata.jwks
      ? createLocalJWKSet(metadata.jwks)
      : remoteKeys(metadata.jwks_uri as string, options)
  }
  const scopes = new Set((metadata.scope ?? '').split(' ').filter(Boolean))
  return {
    id: metadata.client_id,
    method,
    secretHashes,
    hmacKeys,
    assertionAlgs,
    assertionKeys,
    mayUseClientCredentials: (metadata.grant_types ?? ['client_credentials']).includes('client_credentials'),
    scopes,
    defaultScope: [...scopes].join(' '),
    allowedResources: metadata.resources ? new Set(metadata.resources) : undefined,
    allowMultipleResources: metadata.allow_multiple_resources ?? false,
    dpopBound: metadata.dpop_bound_access_tokens === true,
    certificateMatcher: method === 'tls_client_auth' ? tlsClientAuthMatcher(metadata) : undefined,
    selfSignedCertificates:
      method === 'self_signed_tls_client_auth' ? selfSignedCertificates(metadata, options) : undefined,
    certificateBound: metadata.tls_client_certificate_bound_access_tokens === true,
    publicMetadata: publicMetadata(metadata, method),
  }
}

/** The registered clients by `client_id`. */
export class ClientRegistry {
  readonly #clients = new Map<string, RegisteredClient>()
  readonly #options: ClientRegistryOptions

  /** @param clients Validated client metadata (see `resolveConfig`). */
  constructor(clients: readonly ClientMetadata[], options: ClientRegistryOptions) {
    this.#options = options
    for (const metadata of clients) this.#clients.set(metadata.client_id, prepare(metadata, options))
  }

  /** The client registered as `clientId`. */
  get(clientId: string): RegisteredClient | undefined {
    return this.#clients.get(clientId)
  }

  /**
   * Adds a client.
   *
   * @param metadata Validated client metadata (see `validateClientMetadata`).
   * @throws {ConfigurationError} when its `client_id` is already registered.
   */
  add(metadata: ClientMetadata): void {
    if (this.#clients.has(metadata.client_id)) {
      throw new ConfigurationError(
        `invalid client metadata: client_id ${JSON.stringify(metadata.client_id)} is already registered; use updateClient to change it`,
      )
    }
    this.#clients.set(metadata.client_id, prepare(metadata, this.#options))
  }

  /**
   * Replaces the registration of an existing client.
   *
   * @param metadata Validated client metadata (see `validateClientMetadata`).
   * @throws {ConfigurationError} when its `client_id` is not registered.
   */
  replace(metadata: ClientMetadata): void {
    if (!this.#clients.has(metadata.client_id)) {
      throw new ConfigurationError(
        `invalid client metadata: client_id ${JSON.stringify(metadata.client_id)} is not registered; use registerClient to add it`,
      )
    }
    this.#clients.set(metadata.client_id, prepare(metadata, this.#options))
  }

  /** Removes a client; `false` when it was not registered. */
  remove(clientId: string): boolean {
    return this.#clients.delete(clientId)
  }

  /** A copy of the public metadata of the client registered as `clientId`. */
  describe(clientId: string): PublicClientMetadata | undefined {
    const client = this.#clients.get(clientId)
    return client === undefined ? undefined : structuredClone(client.publicMetadata)
  }

  /** Every registered scope, for `scopes_supported`. */
  allScopes(): string[] {
    const all = new Set<string>()
    for (const client of this.#clients.values()) for (const scope of client.scopes) all.add(scope)
    return [...all].sort()
  }
}
