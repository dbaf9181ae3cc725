/**
 * Client authentication at the token, introspection and revocation endpoints: exactly one method
 * per request (RFC 6749 §2.3, §5.2), and the method must be the one the client registered.
 * Secret methods and `tls_client_auth` stay synchronous (the hot path); assertion methods, and
 * `self_signed_tls_client_auth` with a `jwks_uri`, are asynchronous.
 *
 * @module client-authentication
 */
import { JWT_BEARER_ASSERTION_TYPE } from '@oauth-m2m/core'
import { decodeBasicCredentials } from '@oauth-m2m/core/internal'
import { decodeJwt } from 'jose/jwt/decode'
import { type AssertionPolicy, verifyClientAssertion } from './client-assertion.js'
import type { PresentedCertificate } from './client-certificate.js'
import type { ClientRegistry, RegisteredClient } from './client-registry.js'
import { type EndpointResponse, oauthError, temporarilyUnavailable } from './http-response.js'
import type { MtlsSettings } from './mtls-settings.js'
import type { FailedAuthLimiter } from './rate-limit.js'
import { type FormParams, single } from './request-form.js'
import type { SecretHasher } from './secret-hash.js'
import type { ServerStore } from './server-store.js'

/** Outcome of client authentication: the client, or the error answer. */
export type AuthResult =
  | { client: RegisteredClient; error?: undefined }
  | { client?: undefined; error: EndpointResponse }

/** What {@link ClientAuthenticator} needs. */
export interface ClientAuthenticatorOptions {
  registry: ClientRegistry
  hasher: SecretHasher
  /** Brute-force protection; `undefined` turns it off. */
  limiter: FailedAuthLimiter | undefined
  store: ServerStore
  /** The issuer and the token endpoint, both accepted as an assertion's `aud`. */
  issuer: string
  tokenEndpoint: string
  realm: string
  assertionMaxLifetimeSec: number
  clockToleranceSec: number
  /**
   * Whether an assertion's `aud` must be the issuer alone, as one string (draft-ietf-oauth-rfc7523bis-11
   * §4); otherwise the token endpoint and the endpoint called are accepted too.
   */
  strictAssertionAudience: boolean
  /** Whether the FAPI 2.0 assertion rules apply (`profile: 'fapi2'`; see `AssertionPolicy.fapi2`). */
  fapi2: boolean
  /** The `mtls` option; `undefined` when mTLS is off. */
  mtls: MtlsSettings | undefined
  /** The server's clock, epoch ms. */
  now: () => number
}

/**
 * How a failed authentication is answered. `challenge` adds `WWW-Authenticate: Basic`, which
 * RFC 6749 §5.2 requires when the client tried the `Authorization` header; other methods get none.
 */
interface FailureAnswer {
  challenge: boolean
}

/** A client secret to check, and how it came. */
interface SecretAttempt extends FailureAnswer {
  clientId: string
  secret: string
  method: 'client_secret_basic' | 'client_secret_post'
  source: string
}

const NO_CHALLENGE: FailureAnswer = { challenge: false }
const CHALLENGE: FailureAnswer = { challenge: true }

/** Authenticates the client of a request to a form endpoint. */
export class ClientAuthenticator {
  readonly #options: ClientAuthenticatorOptions
  readonly #challenge: Record<string, string>

  constructor(options: ClientAuthenticatorOptions) {
    this.#options = options
    this.#challenge = { 'www-authenticate': `Basic realm="${options.realm}", charset="UTF-8"` }
  }

  /**
   * Authenticates the request's client.
   *
   * @param authorization The `Authorization` header, if any.
   * @param params The parsed form body.
   * @param endpointUrl URL of the endpoint being called, also accepted as an assertion's `aud`.
   * @param source Where the request came from (the peer address, `''` when unknown), for
   *   brute-force protection.
   * @param certificate The client certificate of the request (TLS, a trusted proxy's header, or
   *   the host of `handle()`), if any.
   */
  authenticate(
    authorization: string | undefined,
    params: FormParams,
    endpointUrl: string,
    source: string,
    certificate?: PresentedCertificate,
  ): AuthResult | Promise<AuthResult> {
    const secret = single(params, 'client_secret')
    const usesAssertion = params.has('client_assertion') || params.has('client_assertion_type')
    const methods =
      (authorization !== undefined ? 1 : 0) + (secret !== undefined ? 1 : 0) + (usesAssertion ? 1 : 0)
    if (methods > 1) {
      return this.#fail(400, 'invalid_request', 'use exactly one client authentication method per request')
    }
    const bodyClientId = single(params, 'client_id')
    if (authorization !== undefined) {
      const basic = decodeBasicCredentials(authorization)
      if (!basic.ok) return this.#fail(401, 'invalid_client', basic.reason, CHALLENGE)
      if (bodyClientId !== undefined && bodyClientId !== basic.clientId) {
        return this.#fail(
          400,
          'invalid_request',
          'client_id in the body differs from the Authorization header',
        )
      }
      return this.#checkSecret({
        clientId: basic.clientId,
        secret: basic.clientSecret,
        method: 'client_secret_basic',
        source,
        challenge: true,
      })
    }
    if (secret !== undefined) {
      if (bodyClientId === undefined)
        return this.#fail(401, 'invalid_client', 'client_secret was sent without client_id')
      return this.#checkSecret({
        clientId: bodyClientId,
        secret,
        method: 'client_secret_post',
        source,
        challenge: false,
      })
    }
    if (usesAssertion) return this.#checkAssertion(params, bodyClientId, endpointUrl, source)
    if (bodyClientId === undefined)
      return this.#fail(401, 'invalid_client', 'client authentication is required')
    // A client registered through the registration endpoint may need a store lookup first.
    const found = this.#options.registry.find(bodyClientId)
    return found instanceof Promise
      ? found.then((client) => this.#withoutCredentials(client, certificate, source))
      : this.#withoutCredentials(found, certificate, source)
  }

  /** A request that names its client by `client_id` alone: a public or a mutual-TLS client. */
  #withoutCredentials(
    client: RegisteredClient | undefined,
    certificate: PresentedCertificate | undefined,
    source: string,
  ): AuthResult | Promise<AuthResult> {
    // A public client identifies itself without credentials; callers decide what it may do.
    if (client?.method === 'none') return { client }
    // RFC 8705 §2: client_id names the client, the TLS client certificate authenticates it.
    if (client?.method === 'tls_client_auth' || client?.method === 'self_signed_tls_client_auth') {
      return this.#checkCertificate(client, certificate, source)
    }
    return this.#fail(401, 'invalid_client', 'client authentication is required')
  }

  #fail(
    status: number,
    error: 'invalid_request' | 'invalid_client',
    description: string,
    { challenge }: FailureAnswer = NO_CHALLENGE,
  ): AuthResult {
    return { error: oauthError(status, error, description, challenge ? this.#challenge : undefined) }
  }

  /** 429 when `clientId` has failed too often (from `source`, or overall), else `undefined`. */
  #throttled(clientId: string, source: string, { challenge }: FailureAnswer): AuthResult | undefined {
    const retryAfterSec = this.#options.limiter?.retryAfterSec(clientId, source) ?? 0
    if (retryAfterSec === 0) return undefined
    const headers = { 'retry-after': String(retryAfterSec), ...(challenge ? this.#challenge : {}) }
    return {
      error: oauthError(
        429,
        'invalid_client',
        'too many failed authentication attempts; retry later',
        headers,
      ),
    }
  }

  #authFailed(clientId: string, source: string, description: string, answer: FailureAnswer): AuthResult {
    this.#options.limiter?.recordFailure(clientId, source)
    return this.#fail(401, 'invalid_client', description, answer)
  }

  #checkSecret(attempt: SecretAttempt): AuthResult | Promise<AuthResult> {
    const throttled = this.#throttled(attempt.clientId, attempt.source, attempt)
    if (throttled) return throttled
    // Local clients and recently looked-up registered ones answer at once: the hot path stays sync.
    const found = this.#options.registry.find(attempt.clientId)
    return found instanceof Promise
      ? found.then((client) => this.#compareSecret(attempt, client))
      : this.#compareSecret(attempt, found)
  }

  #compareSecret(attempt: SecretAttempt, client: RegisteredClient | undefined): AuthResult {
    const { clientId, secret, method, source } = attempt
    // An unknown client, or one without secrets, is compared against a dummy hash: same cost.
    const stored = client && client.secretHashes.length > 0 ? client.secretHashes : undefined
    if (!this.#options.hasher.matches(secret, stored) || client === undefined) {
      return this.#authFailed(clientId, source, 'client authentication failed', attempt)
    }
    if (client.method !== method) {
      return this.#fail(401, 'invalid_client', `this client must authenticate with ${client.method}`, attempt)
    }
    return { client }
  }

  #checkCertificate(
    client: RegisteredClient,
    certificate: PresentedCertificate | undefined,
    source: string,
  ): AuthResult | Promise<AuthResult> {
    const throttled = this.#throttled(client.id, source, NO_CHALLENGE)
    if (throttled) return throttled
    if (certificate === undefined) {
      return this.#fail(
        401,
        'invalid_client',
        `this client authenticates with ${client.method}, and no client certificate was presented`,
      )
    }
    if (client.method === 'tls_client_auth') {
      const trust = this.#options.mtls?.trust
      const failure =
        trust === undefined
          ? 'no CA is configured for tls_client_auth'
          : trust.check(certificate, this.#options.now())
      if (failure !== undefined) return this.#authFailed(client.id, source, failure, NO_CHALLENGE)
      if (client.certificateMatcher?.(certificate) !== true) {
        return this.#authFailed(
          client.id,
          source,
          'the client certificate does not match the registered one',
          NO_CHALLENGE,
        )
      }
      return { client }
    }
    const registered = client.selfSignedCertificates?.()
    const check = (thumbprints: ReadonlySet<string> | undefined): AuthResult =>
      thumbprints?.has(certificate.thumbprint) === true
        ? { client }
        : this.#authFailed(
            client.id,
            source,
            'the client certificate is not one registered in the client jwks',
            NO_CHALLENGE,
          )
    if (!(registered instanceof Promise)) return check(registered)
    return registered.then(check, () =>
      this.#fail(401, 'invalid_client', 'the client jwks_uri could not be fetched'),
    )
  }

  async #checkAssertion(
    params: FormParams,
    bodyClientId: string | undefined,
    endpointUrl: string,
    source: string,
  ): Promise<AuthResult> {
    if (single(params, 'client_assertion_type') !== JWT_BEARER_ASSERTION_TYPE) {
      return this.#fail(400, 'invalid_request', `client_assertion_type must be ${JWT_BEARER_ASSERTION_TYPE}`)
    }
    const assertion = single(params, 'client_assertion')
    if (assertion === undefined) return this.#fail(400, 'invalid_request', 'client_assertion is missing')
    let issuer: unknown
    try {
      issuer = decodeJwt(assertion).iss
    } catch {
      return this.#fail(401, 'invalid_client', 'the client assertion is not a valid JWT')
    }
    const clientId = bodyClientId ?? issuer
    if (typeof clientId !== 'string' || clientId === '') {
      return this.#fail(401, 'invalid_client', 'the client assertion iss claim is missing')
    }
    const throttled = this.#throttled(clientId, source, NO_CHALLENGE)
    if (throttled) return throttled
    const client = await this.#options.registry.find(clientId)
    if (
      client === undefined ||
      (client.method !== 'client_secret_jwt' && client.method !== 'private_key_jwt')
    ) {
      return this.#authFailed(clientId, source, 'client authentication failed', NO_CHALLENGE)
    }
    const o = this.#options
    const policy: AssertionPolicy = {
      audiences: [...new Set([o.issuer, o.tokenEndpoint, endpointUrl])],
      strictIssuer: o.strictAssertionAudience ? o.issuer : undefined,
      fapi2: o.fapi2,
      maxLifetimeSec: o.assertionMaxLifetimeSec,
      clockToleranceSec: o.clockToleranceSec,
      now: o.now,
      store: o.store,
    }
    const failure = await verifyClientAssertion(assertion, client, policy)
    if (failure === undefined) return { client }
    if (typeof failure === 'string') return this.#authFailed(clientId, source, failure, NO_CHALLENGE)
    // Not the client's fault: not counted as a failed authentication.
    return {
      error: temporarilyUnavailable(
        'too many client assertions are in use; retry later',
        failure.fullUntilMs,
        o.now(),
      ),
    }
  }
}
