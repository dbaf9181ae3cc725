/**
 * The contract every client authentication strategy fulfils.
 *
 * @module client-auth/types
 */

/** RFC 7591 `token_endpoint_auth_method` values this toolkit knows. */
export type ClientAuthMethod =
  | 'client_secret_basic'
  | 'client_secret_post'
  | 'client_secret_jwt'
  | 'private_key_jwt'
  | 'tls_client_auth'
  | 'self_signed_tls_client_auth'
  | 'none'

/** Where the authenticated request goes; strategies use it for the assertion `aud`. */
export interface ClientAuthContext {
  /** The client's `client_id`. */
  clientId: string
  /** URL of the endpoint this request is sent to (token, introspection, revocation). */
  endpoint: string
  /** The authorization server's token endpoint, when known. */
  tokenEndpoint?: string | undefined
  /** The authorization server's issuer identifier, when known. */
  issuer?: string | undefined
  /** Clock for an assertion's `iat` and `exp`, epoch ms. Default `Date.now`. */
  now?: (() => number) | undefined
}

/** The mutable parts of an outgoing form POST that a strategy may add to. */
export interface ClientAuthRequest {
  /** Request headers (lower-case names). */
  headers: Record<string, string>
  /** The form body. */
  body: URLSearchParams
}

/** What a strategy reports after adding credentials to a request. */
export interface AppliedClientAuth {
  /**
   * The credential strings it put on the wire (a secret, a Basic credential, an assertion), raw:
   * text from the answer is scrubbed of them (and of their encoded forms) before any error holds it.
   */
  readonly sensitive: readonly string[]
}

/** TLS options that present a client certificate, as undici's `connect` and `tls.connect` take them. */
export interface TlsConnectOptions {
  /** The certificate, PEM, leaf first, followed by any intermediates. */
  cert: string
  /** The private key, PKCS#8 PEM. */
  key: string
  /** Certificates trusted for the server's certificate: Node's default roots plus those given. Absent: the default roots. */
  ca?: string[]
}

/**
 * The client certificate a mutual-TLS strategy authenticates with (RFC 8705 §2): presented in the
 * TLS handshake, not in the request.
 */
export interface TlsClientCertificate {
  /**
   * The base64url SHA-256 thumbprint of the leaf certificate's DER encoding: the `x5t#S256` of the
   * `cnf` claim of a token bound to it (RFC 8705 §3.1).
   */
  readonly thumbprint: string
  /**
   * TLS options presenting the certificate, for an undici `Agent`'s `connect` option (or a
   * `ProxyAgent`'s `requestTls`) when requests go through a dispatcher of your own. A new object
   * on every call; it holds the private key, so it is not to be logged.
   */
  connectOptions(): TlsConnectOptions
}

/**
 * Adds client credentials to one request. Strategies are stateless between requests, except
 * for cached key material: each call produces fresh credentials (a new assertion every time).
 * Send requests through `applyClientAuth`, which also yields what to scrub from the answer.
 */
export interface ClientAuthStrategy {
  /** The RFC 7591 method name, as advertised in `token_endpoint_auth_methods_supported`. */
  readonly method: ClientAuthMethod
  /**
   * The client certificate of a mutual-TLS strategy (`tlsClientAuth`, `selfSignedTlsClientAuth`).
   * Requests the strategy authenticates are sent over an undici `Agent` presenting it, unless the
   * caller gives a dispatcher of its own, which must then present it. Absent for other strategies.
   */
  readonly tls?: TlsClientCertificate
  /**
   * Adds this client's credentials to `request`, and says which strings were credentials. A
   * strategy that returns nothing is still covered: `applyClientAuth` treats every header it set
   * and every form parameter but `client_id` and `client_assertion_type` as one.
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: strategies written before this returned Promise<void>; they must still fit.
  apply(request: ClientAuthRequest, context: ClientAuthContext): Promise<AppliedClientAuth | void>
}

/**
 * A client secret, or a function returning the current one. A function is called for every
 * request, so a rotated secret is picked up without a restart.
 */
export type SecretSource = string | (() => string | Promise<string>)

/**
 * Options shared by the JWT assertion strategies (RFC 7523 §2.2, as updated by
 * draft-ietf-oauth-rfc7523bis-11).
 */
export interface AssertionOptions {
  /**
   * The assertion's `aud`, always sent as one string. Default: the authorization server's issuer
   * identifier when it is known (the client's `issuer` option; draft-ietf-oauth-rfc7523bis §4),
   * else the token endpoint, else the endpoint the request is sent to. Servers that still require
   * the endpoint URL (Okta: "the endpoint invoked for the request"; Entra ID: the token endpoint)
   * need it named here when the client is configured with `issuer`.
   */
  audience?: string
  /**
   * The assertion's `typ` header. Default `client-authentication+jwt`, the explicit type
   * draft-ietf-oauth-rfc7523bis §4 gives client authentication JWTs (RFC 8725 §3.11), so that an
   * assertion cannot be taken for another kind of JWT signed with the same key. `JWT` for a server
   * that refuses any other value.
   */
  typ?: string
  /** Seconds from `iat` to `exp`. Default 60. */
  lifetimeSec?: number
}
