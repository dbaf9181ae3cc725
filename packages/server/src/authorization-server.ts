/**
 * `createAuthorizationServer`: wires the configuration, clients, keys and store into a server
 * that answers web `Request`s and listens on node:http.
 *
 * @module authorization-server
 */
import type { X509Certificate } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import { createServer as createHttpsServer, type ServerOptions as HttpsServerOptions } from 'node:https'
import type { AddressInfo } from 'node:net'
import { ConfigurationError } from '@oauth-m2m/core'
import type { JWK } from 'jose'
import { readHostCertificate } from './client-certificate.js'
import type { ClientMetadata, PublicClientMetadata } from './client-metadata.js'
import { ClientRegistry } from './client-registry.js'
import { validateRuntimeClient } from './client-validation.js'
import type { AuthorizationServerConfig } from './config.js'
import { checkFapi2SigningAlg } from './fapi2-profile.js'
import { validating } from './field-validation.js'
import { guardStore } from './guarded-store.js'
import type { ServerMetadata } from './metadata.js'
import { nodeRequestListener } from './node-adapter.js'
import { FailedAuthLimiter } from './rate-limit.js'
import { registeredClients, registrationRoutes } from './registration-setup.js'
import type { RequestLog } from './request-log.js'
import { resolveConfig } from './resolve-config.js'
import { SecretHasher } from './secret-hash.js'
import { ServerCore, type ServerState } from './server-core.js'
import { registerServerInternals } from './server-internals.js'
import { MemoryServerStore } from './server-store.js'
import { createServerSigningKeys, type ServerSigningKeys } from './signing/server-signing-keys.js'
import type { SigningAlg } from './signing/signing-key.js'
import { handleWebRequest } from './web-adapter.js'

/** Options of {@link AuthorizationServer.listen}. */
export interface ListenOptions {
  /** TCP port; 0 picks a free one. Default 0. */
  port?: number
  /** Address to bind. Default `127.0.0.1`. */
  host?: string
  /**
   * Serve HTTPS with these TLS settings (node:https), asking every client for a certificate
   * (RFC 8705) without requiring one: whether a request needed a certificate is decided per client
   * (a `tls_client_auth` client must present one, a `client_secret_basic` client need not), so
   * both kinds of client use the same listener. The issuer fixed by this listener is then
   * `https://…`. Default: plain HTTP.
   */
  tls?: ListenTlsOptions
}

/** TLS settings of {@link ListenOptions.tls}: node:tls options, the key and certificate required. */
export interface ListenTlsOptions {
  /** The server's private key, PEM (or DER bytes). */
  key: string | Uint8Array
  /** The server's certificate, PEM, intermediates after it (or DER bytes). */
  cert: string | Uint8Array
  /**
   * CA certificates, PEM, named to clients in the certificate request (RFC 8446 §4.2.4), which
   * helps a client with several certificates pick the right one. Whether a client certificate is
   * trusted is decided by the server option `mtls.ca`, not by this, so that the rule is the same
   * behind a proxy and through `handle()`. Default: `mtls.ca`.
   */
  ca?: string | string[]
  /** Further node:tls server options (`minVersion`, `ciphers`, `sessionTimeout`, …), passed through. */
  [option: string]: unknown
}

/** Options of {@link AuthorizationServer.handle}. */
export interface HandleOptions {
  /**
   * The caller's IP address, when the host knows it (e.g. Hono's `getConnInfo`, a platform's
   * client-IP header that the host trusts). Failed client authentications are counted per client
   * id and this address (an IPv6 address by its /64); without it, every caller of `handle()`
   * shares one unknown source, so `rateLimit.maxFailures` failures from anyone refuse the client
   * id to all of them. When it is one of `trustedProxy.addresses`, the request's
   * `X-Forwarded-For` names the caller instead, as for `listen()`. Default: none.
   */
  remoteAddress?: string
  /**
   * The client certificate the host's TLS connection received (RFC 8705): an `X509Certificate`,
   * PEM text or DER bytes. The host asks for it (`requestCert`) and passes it whether or not its
   * TLS stack verified it: the server applies its own rules (`mtls.ca`, the client's registration).
   * Ignored when `remoteAddress` is a trusted proxy with a `certificateHeader`: that header is the
   * client certificate then. Default: none.
   */
  clientCertificate?: X509Certificate | string | Uint8Array
}

/** A running node:http listener of the server. */
export interface ListeningServer {
  /** Base URL of the listener, with the real port, e.g. `http://127.0.0.1:43121`. */
  readonly url: string
  /** Stops accepting connections and resolves once open ones have finished. */
  close(): Promise<void>
}

/** A reference OAuth 2.0 authorization server for the client_credentials grant. */
export interface AuthorizationServer {
  /** The issuer identifier. Throws until known when none was configured (see `config.issuer`). */
  readonly issuer: string
  /** The RFC 8414 metadata document. Throws until the issuer is known. */
  readonly metadata: ServerMetadata
  /** Answers a web-standard `Request` (msw, edge runtimes, fetch-style frameworks). */
  handle(request: Request, options?: HandleOptions): Promise<Response>
  /** Serves over node:http; the first listener fixes the issuer when none was configured. */
  listen(options?: ListenOptions): Promise<ListeningServer>
  /**
   * Closes every listener, and stops the background work (reloading shared signing keys, scheduled
   * rotation, listening for the store's events) until the next `listen()`.
   */
  close(): Promise<void>
  /**
   * Makes a new signing key current: the next key, already published on `/jwks`. The previous key
   * stays published until the last token it signed has expired. With keys on a shared store, the
   * rotation is made on the stored set (compare-and-set: a rotation at the same time on another
   * instance is another step, no key is lost) and every instance picks it up. Resolves to the new
   * public JWK.
   */
  rotateSigningKey(alg?: SigningAlg): Promise<JWK>
  /**
   * Registers a client while the server runs, validated exactly like an entry of `clients` in the
   * configuration. It may get tokens from the next request on.
   *
   * @returns The registration as {@link AuthorizationServer.getClient} shows it.
   * @throws {ConfigurationError} naming the first invalid member, or when the `client_id` is
   *   already registered.
   */
  registerClient(metadata: ClientMetadata): PublicClientMetadata
  /**
   * Replaces the whole registration of an existing client (metadata members left out fall back to
   * their defaults), effective from the next request on. To rotate a secret without downtime,
   * register the new secret next to the old one (`client_secrets: [old, new]`), move the callers
   * to the new one, then update again with the new secret only.
   *
   * @returns The registration as {@link AuthorizationServer.getClient} shows it.
   * @throws {ConfigurationError} naming the first invalid member, or when the `client_id` is not
   *   registered.
   */
  updateClient(metadata: ClientMetadata): PublicClientMetadata
  /**
   * Removes a client: from the next request on it can neither get tokens nor introspect or revoke.
   * Tokens already issued to it stay valid until they expire, unless revoked.
   *
   * @returns `false` when no client was registered as `clientId`.
   */
  removeClient(clientId: string): boolean
  /**
   * The registration of a client without its secrets (no `client_secret`, `client_secrets` or
   * `client_secret_hash`), with the defaults filled in; `undefined` when none is registered as
   * `clientId`. The object is a copy.
   */
  getClient(clientId: string): PublicClientMetadata | undefined
}

/** Tells `onInternalError` of a background failure; a hook that throws is ignored. */
function reportSafely(onInternalError: (error: unknown) => void, error: unknown): void {
  try {
    onInternalError(error)
  } catch {
    // Nothing is left to tell; it must not become an unhandled rejection.
  }
}

/** How often a closing listener closes the connections that went idle, in milliseconds. */
const CLOSE_SWEEP_MS = 50

function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host
}

function checkingIntervalMs(shortestTimeoutMs: number): number {
  return Math.max(10, Math.min(1000, Math.floor(shortestTimeoutMs / 2)))
}

class NodeAuthorizationServer implements AuthorizationServer {
  readonly #state: ServerState
  readonly #servers = new Set<Server>()
  readonly #resourceUris: ReadonlySet<string>
  readonly #log: RequestLog | undefined
  readonly #signing: ServerSigningKeys
  #core: ServerCore | undefined

  constructor(state: ServerState, signing: ServerSigningKeys) {
    this.#state = state
    this.#signing = signing
    this.#startBackground()
    const { onRequest, onInternalError } = state.config
    this.#log = onRequest === undefined ? undefined : { hook: onRequest, onError: onInternalError }
    this.#resourceUris = new Set(state.config.resources.map((r) => r.resource))
    if (state.config.issuer !== undefined) this.#core = new ServerCore(state.config.issuer, state)
  }

  get issuer(): string {
    return this.#bound().locations.issuer
  }

  get metadata(): ServerMetadata {
    return structuredClone(this.#bound().metadata)
  }

  #bound(): ServerCore {
    if (this.#core === undefined) {
      throw new ConfigurationError('the issuer is not known yet: configure `issuer`, or call listen() first')
    }
    return this.#core
  }

  #bind(issuer: string): ServerCore {
    this.#core ??= new ServerCore(issuer, this.#state)
    return this.#core
  }

  handle(request: Request, options: HandleOptions = {}): Promise<Response> {
    const core = this.#core ?? this.#bind(new URL(request.url).origin)
    const config = this.#state.config
    const certificate =
      options.clientCertificate === undefined ? undefined : readHostCertificate(options.clientCertificate)
    return handleWebRequest(
      core,
      request,
      config.maxBodyBytes,
      options.remoteAddress,
      config.trustedProxy,
      certificate,
      this.#log,
    )
  }

  async listen(options: ListenOptions = {}): Promise<ListeningServer> {
    const host = options.host ?? '127.0.0.1'
    const config = this.#state.config
    const httpOptions = {
      requestTimeout: config.requestTimeoutMs,
      headersTimeout: config.headersTimeoutMs,
      keepAliveTimeout: config.keepAliveTimeoutMs,
      // Node checks both time-outs only every 30 s by default, which would stretch a 10 s limit
      // to 40 s; check often enough that the limit holds to within half of it.
      connectionsCheckingInterval: checkingIntervalMs(config.headersTimeoutMs),
    }
    const listener = nodeRequestListener(
      () => this.#bound(),
      config.maxBodyBytes,
      config.trustedProxy,
      this.#log,
    )
    this.#startBackground()
    const tls = options.tls
    let server: Server
    if (tls === undefined) server = createServer(httpOptions, listener)
    else {
      const ca = tls.ca ?? (config.mtls?.caPem.length ? [...config.mtls.caPem] : undefined)
      const httpsOptions: HttpsServerOptions = {
        ...(tls as HttpsServerOptions),
        ...httpOptions,
        ...(ca === undefined ? {} : { ca }),
        // Asked of every client, required of none: the decision is per client, in the core.
        requestCert: true,
        rejectUnauthorized: false,
      }
      server = createHttpsServer(httpsOptions, listener)
    }
    const url = await new Promise<string>((resolve, reject) => {
      server.once('error', reject)
      server.listen(options.port ?? 0, host, () => {
        server.off('error', reject)
        const scheme = tls === undefined ? 'http' : 'https'
        const listeningUrl = `${scheme}://${urlHost(host)}:${(server.address() as AddressInfo).port}`
        // Bound before any connection can be served: the request listener needs the issuer.
        this.#bind(listeningUrl)
        resolve(listeningUrl)
      })
    })
    this.#servers.add(server)
    return { url, close: () => this.#closeServer(server) }
  }

  #closeServer(server: Server): Promise<void> {
    if (!this.#servers.delete(server)) return Promise.resolve()
    return new Promise((resolve) => {
      // A kept-alive connection whose request is answered after this would otherwise stay open
      // until keepAliveTimeoutMs: close each one as soon as it is idle.
      const sweep = setInterval(() => server.closeIdleConnections(), CLOSE_SWEEP_MS)
      server.close(() => {
        clearInterval(sweep)
        resolve()
      })
      server.closeIdleConnections()
    })
  }

  async close(): Promise<void> {
    this.#signing.stop()
    this.#state.limiter?.stop()
    this.#state.registry.stop()
    await Promise.all([...this.#servers].map((server) => this.#closeServer(server)))
  }

  /** Starts the key refresh and the event listeners (idempotent: `listen()` after `close()`). */
  #startBackground(): void {
    try {
      this.#signing.start()
      this.#state.limiter?.start()
      this.#state.registry.start()
    } catch (error) {
      // A store that cannot subscribe: shared keys still reload on their timer.
      reportSafely(this.#state.config.onInternalError, error)
    }
  }

  async rotateSigningKey(alg?: SigningAlg): Promise<JWK> {
    if (this.#state.config.profile === 'fapi2') validating('signing key', () => checkFapi2SigningAlg(alg))
    const key = await this.#signing.rotate(alg)
    this.#core?.invalidateJwks()
    return { ...key.publicJwk }
  }

  registerClient(metadata: ClientMetadata): PublicClientMetadata {
    const valid = this.#validClient(metadata)
    this.#state.registry.add(valid)
    return this.#clientsChanged(valid.client_id)
  }

  updateClient(metadata: ClientMetadata): PublicClientMetadata {
    const valid = this.#validClient(metadata)
    this.#state.registry.replace(valid)
    return this.#clientsChanged(valid.client_id)
  }

  #validClient(metadata: ClientMetadata): ClientMetadata {
    return validateRuntimeClient(metadata, this.#state.config, this.#resourceUris)
  }

  removeClient(clientId: string): boolean {
    if (!this.#state.registry.remove(clientId)) return false
    this.#core?.clientsChanged()
    return true
  }

  getClient(clientId: string): PublicClientMetadata | undefined {
    return this.#state.registry.describe(clientId)
  }

  #clientsChanged(clientId: string): PublicClientMetadata {
    this.#core?.clientsChanged()
    return this.#state.registry.describe(clientId) as PublicClientMetadata
  }
}

/**
 * Creates an authorization server from a configuration object (the same shape as the CLI's JSON
 * config file).
 *
 * @throws {ConfigurationError} naming the first invalid field.
 */
export async function createAuthorizationServer(
  config: AuthorizationServerConfig,
): Promise<AuthorizationServer> {
  const resolved = resolveConfig(config)
  const hasher = new SecretHasher()
  const now = resolved.now
  // Every store call fails as a StoreUnavailableError, which the endpoints answer with 503.
  const store = guardStore(resolved.store ?? new MemoryServerStore({ now }))
  const onBackgroundError = (error: unknown) => reportSafely(resolved.onInternalError, error)
  const signing = await createServerSigningKeys(resolved, store, onBackgroundError)
  const { keys } = signing
  // A store given to the server is shared with other instances: failures are counted on it too.
  const sharedStore = resolved.store === undefined ? {} : { store }
  const registry = new ClientRegistry(resolved.clients, {
    hasher,
    jwksUriTimeoutMs: resolved.jwksUriTimeoutMs,
    now,
    registered: registeredClients(resolved, store),
  })
  const server = new NodeAuthorizationServer(
    {
      config: resolved,
      registry,
      hasher,
      limiter: resolved.rateLimit
        ? new FailedAuthLimiter({ ...resolved.rateLimit, now, ...sharedStore })
        : undefined,
      store,
      keys,
      registrationAt: registrationRoutes(resolved, store, registry),
    },
    signing,
  )
  registerServerInternals(server, {
    keys,
    store,
    typ: resolved.accessTokenTyp,
    now,
    accessTokenLifetimeSec: resolved.accessTokenLifetimeSec,
  })
  return server
}
