/**
 * The registered clients, each prepared once when it is registered (at start or at run time) for
 * the hot path: secrets hashed, scopes split, assertion keys and algorithm allowlists resolved.
 * A change replaces a client's prepared entry in one step, so every request sees either the old
 * registration or the new one, never a mix. Clients registered through the registration endpoint
 * live in the store shared by every instance and are looked up there, briefly cached.
 *
 * @module client-registry
 */
import { ConfigurationError, JwksCache } from '@oauth-m2m/core'
import type { CryptoKey, JWK, JWTVerifyGetKey } from 'jose'
import { LRUCache } from 'lru-cache'
import { type CertificateMatcher, certificateMatcher, TLS_CLIENT_AUTH_MEMBERS } from './certificate-match.js'
import { ASSERTION_ALGS } from './client-assertion.js'
import {
  type ClientMetadata,
  type PublicClientMetadata,
  SECRET_MEMBERS,
  type TokenEndpointAuthMethod,
} from './client-metadata.js'
import { lruCapacity } from './lru-capacity.js'
import { registeredCertificates } from './mtls-client-metadata.js'
import type { SecretHasher } from './secret-hash.js'
import type { ServerStore, StoredClient } from './server-store.js'

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

/** A registered client read from the store, as {@link StoredClientReader} makes it. */
export interface LoadedClient {
  /** Validated client metadata, its accepted secrets as `client_secret_hash` digests. */
  readonly metadata: ClientMetadata
  /** When the metadata must be made again (a secret expires or its grace period ends), epoch ms. */
  readonly validUntilMs: number
}

/**
 * Turns a stored client into client metadata at `nowMs`: `undefined` for a record that is not a
 * usable client; throws for one that breaks this server's rules (told to `onInternalError`).
 */
export type StoredClientReader = (stored: StoredClient, nowMs: number) => LoadedClient | undefined

/** Where clients registered through the registration endpoint are found. */
export interface RegisteredClientsOptions {
  /** The store holding them; its `client` events drop cached copies. */
  store: ServerStore
  /** Reads one stored client. */
  read: StoredClientReader
  /** Scopes registered clients may have, advertised beside those of the local clients. */
  scopes: Iterable<string>
  /** Told of a stored client that breaks this server's rules (treated as unknown). */
  onInternalError: (error: unknown) => void
  /** How long a looked-up client (or its absence) is reused, in milliseconds. Default 1000. */
  cacheTtlMs?: number
  /** Most looked-up client ids remembered; the least recently used is forgotten. Default 10 000. */
  maxCachedClients?: number
}

/** Options of {@link ClientRegistry}. */
export interface ClientRegistryOptions {
  /** Hashes the clients' secrets. */
  hasher: SecretHasher
  /** Time-out for fetching a client's `jwks_uri`, in milliseconds. */
  jwksUriTimeoutMs: number
  /** The server's clock, in epoch milliseconds: a fetched `jwks_uri` key set expires by it. */
  now: () => number
  /** Clients registered through the registration endpoint, when it is on. Default: none. */
  registered?: RegisteredClientsOptions | undefined
}

function toList(value: string | string[] | undefined): string[] {
  if (value === undefined) return []
  return typeof value === 'string' ? [value] : value
}

/** A key resolver over the core JWKS cache, importing each JWK once per algorithm. */
function remoteKeys(jwksUri: string, options: ClientRegistryOptions): JWTVerifyGetKey {
  const cache = new JwksCache(jwksUri, { timeoutMs: options.jwksUriTimeoutMs, now: options.now })
  const imported = new WeakMap<JWK, Map<string, Promise<CryptoKey | Uint8Array>>>()
  return async (header) => {
    const jwk = await cache.getKey({ kid: header.kid, alg: header.alg })
    let byAlg = imported.get(jwk)
    if (byAlg === undefined) {
      byAlg = new Map()
      imported.set(jwk, byAlg)
    }
    let key = byAlg.get(header.alg)
    if (key === undefined) {
      key = import('jose/key/import').then(({ importJWK }) => importJWK(jwk, header.alg))
      byAlg.set(header.alg, key)
    }
    return key
  }
}

/**
 * jose's resolver over a registered `jwks`, made on the first assertion: jose's JWS code is then
 * loaded by the first client that needs it, not by importing the server.
 */
function localKeys(jwks: { keys: JWK[] }): JWTVerifyGetKey {
  let resolver: Promise<JWTVerifyGetKey> | undefined
  return async (header, token) => {
    resolver ??= import('jose/jwks/local').then(({ createLocalJWKSet }) => createLocalJWKSet(jwks))
    return (await resolver)(header, token)
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
      ? localKeys(metadata.jwks)
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

/**
 * A looked-up client id: the prepared client or its absence, until `freshUntilMs`. `fingerprint`
 * (the metadata as JSON) lets a reload that finds the same registration keep the prepared client,
 * and with it the key cache of its `jwks_uri`.
 */
interface CachedLookup {
  readonly client: RegisteredClient | undefined
  readonly fingerprint: string | undefined
  readonly freshUntilMs: number
}

/** The prepared client of `previous` when its registration is the same (`fingerprint`). */
function reusable(previous: CachedLookup | undefined, fingerprint: string): RegisteredClient | undefined {
  return previous?.fingerprint === fingerprint ? previous.client : undefined
}

/**
 * The registered clients by `client_id`: the local ones (configuration, `registerClient`) in this
 * process, and, when registration is on, those registered through the endpoint, found in the store.
 * A local client never costs a store round trip; an unknown id is looked up in the store, and the
 * answer (a client, or none) is reused for up to `cacheTtlMs`, so a flood of unknown ids costs at
 * most one lookup per id per `cacheTtlMs` (concurrent lookups of one id share one). Once
 * {@link ClientRegistry.start}ed, a `client` event on the store drops the id's cached answer at once.
 */
export class ClientRegistry {
  readonly #clients = new Map<string, RegisteredClient>()
  readonly #options: ClientRegistryOptions
  readonly #registered: RegisteredClientsOptions | undefined
  readonly #lookups: LRUCache<string, CachedLookup> | undefined
  readonly #inflight = new Map<string, Promise<RegisteredClient | undefined>>()
  readonly #cacheTtlMs: number
  readonly #registeredScopes: ReadonlySet<string>
  #unsubscribe: (() => void) | undefined

  /** @param clients Validated client metadata (see `resolveConfig`). */
  constructor(clients: readonly ClientMetadata[], options: ClientRegistryOptions) {
    this.#options = options
    this.#registered = options.registered
    this.#cacheTtlMs = options.registered?.cacheTtlMs ?? 1000
    this.#registeredScopes = new Set(options.registered?.scopes ?? [])
    for (const metadata of clients) this.#clients.set(metadata.client_id, prepare(metadata, options))
    if (options.registered !== undefined) {
      this.#lookups = new LRUCache(lruCapacity(options.registered.maxCachedClients ?? 10_000))
    }
  }

  /** Starts listening for the store's `client` events (idempotent); a no-op without registration. */
  start(): void {
    if (this.#registered === undefined || this.#unsubscribe !== undefined) return
    this.#unsubscribe = this.#registered.store.subscribe((event) => {
      if (event.type === 'client') this.forget(event.clientId)
    })
  }

  /**
   * Stops listening for the store's events. What was looked up is dropped, as no event would tell
   * of its changes any more; lookups go on, each answer reused for up to `cacheTtlMs`.
   */
  stop(): void {
    this.#unsubscribe?.()
    this.#unsubscribe = undefined
    this.#lookups?.clear()
  }

  /**
   * The local client registered as `clientId`, or a registered one looked up less than
   * `cacheTtlMs` ago; never a store round trip.
   */
  get(clientId: string): RegisteredClient | undefined {
    const local = this.#clients.get(clientId)
    if (local !== undefined || this.#lookups === undefined) return local
    const cached = this.#lookups.get(clientId)
    return cached !== undefined && this.#options.now() < cached.freshUntilMs ? cached.client : undefined
  }

  /**
   * The client registered as `clientId`: at once when it is local or its lookup is fresh, else a
   * promise of the store's answer. Rejects when the store cannot answer (nothing is cached then).
   */
  find(clientId: string): RegisteredClient | undefined | Promise<RegisteredClient | undefined> {
    const local = this.#clients.get(clientId)
    if (local !== undefined || this.#lookups === undefined) return local
    const cached = this.#lookups.get(clientId)
    if (cached !== undefined && this.#options.now() < cached.freshUntilMs) return cached.client
    return this.#inflight.get(clientId) ?? this.#lookUp(clientId, cached)
  }

  #lookUp(clientId: string, previous: CachedLookup | undefined): Promise<RegisteredClient | undefined> {
    const registered = this.#registered as RegisteredClientsOptions
    let found: Promise<StoredClient | undefined>
    try {
      found = registered.store.findClient(clientId)
    } catch (error) {
      // A store that throws instead of rejecting fails this lookup the same way.
      found = Promise.reject(error)
    }
    const lookup: Promise<RegisteredClient | undefined> = found.then((stored) => {
      const nowMs = this.#options.now()
      const loaded = stored === undefined ? undefined : this.#read(stored, nowMs)
      let client: RegisteredClient | undefined
      let fingerprint: string | undefined
      if (loaded !== undefined) {
        fingerprint = JSON.stringify(loaded.metadata)
        client = reusable(previous, fingerprint) ?? prepare(loaded.metadata, this.#options)
      }
      // A `client` event during the lookup took it out of #inflight: its answer may predate the
      // change, so it is not kept.
      if (this.#inflight.get(clientId) === lookup) {
        const freshUntilMs = Math.min(
          nowMs + this.#cacheTtlMs,
          loaded?.validUntilMs ?? Number.POSITIVE_INFINITY,
        )
        this.#lookups?.set(clientId, { client, fingerprint, freshUntilMs })
      }
      return client
    })
    this.#inflight.set(clientId, lookup)
    const settled = () => {
      if (this.#inflight.get(clientId) === lookup) this.#inflight.delete(clientId)
    }
    // Handled here too, so that a failed lookup is never an unhandled rejection; callers see it.
    lookup.then(settled, settled)
    return lookup
  }

  #read(stored: StoredClient, nowMs: number): LoadedClient | undefined {
    const registered = this.#registered as RegisteredClientsOptions
    try {
      const loaded = registered.read(stored, nowMs)
      return loaded?.metadata.client_id === stored.client_id ? loaded : undefined
    } catch (error) {
      try {
        registered.onInternalError(error)
      } catch {
        // A failing logger must not fail the lookup.
      }
      return undefined
    }
  }

  /** Drops what is cached about the registered client `clientId` (it changed in the store). */
  forget(clientId: string): void {
    this.#lookups?.delete(clientId)
    this.#inflight.delete(clientId)
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

  /** A copy of the public metadata of the local client registered as `clientId`. */
  describe(clientId: string): PublicClientMetadata | undefined {
    const client = this.#clients.get(clientId)
    return client === undefined ? undefined : structuredClone(client.publicMetadata)
  }

  /**
   * Every scope of the local clients and every scope registered clients may have, for
   * `scopes_supported`.
   */
  allScopes(): string[] {
    const all = new Set<string>(this.#registeredScopes)
    for (const client of this.#clients.values()) for (const scope of client.scopes) all.add(scope)
    return [...all].sort()
  }
}
