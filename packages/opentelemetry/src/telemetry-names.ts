/**
 * The names this package records under: OpenTelemetry semantic-convention attributes where one
 * fits (`server.address`, `server.port`, `error.type`, `http.*`), and names under `oauth_m2m.`
 * for what no convention covers. They are the contract dashboards and alerts are written against.
 *
 * @module telemetry-names
 */

/** Names of the spans this package starts. */
export const SPAN_NAMES = {
  /**
   * One token request of the client, from its start to its token or final error, retries and
   * discovery included (kind `CLIENT`).
   */
  tokenFetch: 'oauth_m2m.client.token_fetch',
  /** One RFC 7662 introspection call of the verifier (kind `CLIENT`). */
  introspection: 'oauth_m2m.verifier.introspection',
} as const

/**
 * Names of the span events this package adds: retries and back-offs to the token-fetch span; a
 * refused token and a JWKS fetch to whatever span is active where they happen (typically the
 * resource server's request span).
 */
export const EVENT_NAMES = {
  /** An attempt of a token request failed and another follows. */
  tokenFetchRetry: 'oauth_m2m.client.token_fetch.retry',
  /** The authorization server asked (429 or 503 with `Retry-After`) not to be called for a while. */
  backoff: 'oauth_m2m.client.backoff',
  /** The verifier refused a token. */
  rejection: 'oauth_m2m.verifier.rejection',
  /** The JWKS was fetched. */
  jwksFetch: 'oauth_m2m.jwks.fetch',
  /** A JWKS fetch failed. */
  jwksError: 'oauth_m2m.jwks.error',
} as const

/** Names of the metric instruments this package records to. */
export const METRIC_NAMES = {
  /** Histogram, seconds: duration of a token request (retries included); `error.type` when it failed. */
  tokenFetchDuration: 'oauth_m2m.client.token_fetch.duration',
  /** Counter: failed attempts of a token request that were retried. */
  tokenFetchRetries: 'oauth_m2m.client.token_fetch.retries',
  /** Counter: `getToken` lookups of the client's cache, by `oauth_m2m.cache.result`. */
  cacheLookups: 'oauth_m2m.client.cache.lookups',
  /** Counter: background refreshes of a stale token, finished; `error.type` when one failed. */
  refreshes: 'oauth_m2m.client.refreshes',
  /** Counter: times the client's shared token store failed and was bypassed. */
  storeErrors: 'oauth_m2m.client.store.errors',
  /** Counter: times the authorization server asked the client to back off (429/503 with `Retry-After`). */
  backoffs: 'oauth_m2m.client.backoffs',
  /**
   * Counter: `verify()` outcomes, by `oauth_m2m.verification.result` (`success`, `failure`), source,
   * whether the verified-token cache answered, and on failure `error.type` (the error's code).
   */
  verifications: 'oauth_m2m.verifier.verifications',
  /** Histogram, seconds: duration of `verify()`, with the attributes of `verifications`. */
  verificationDuration: 'oauth_m2m.verifier.verification.duration',
  /** Histogram, seconds: duration of an introspection call, by outcome. */
  introspectionDuration: 'oauth_m2m.verifier.introspection.duration',
  /** Counter: JWKS fetches (by the verifier's key cache), by reason; `error.type` when one failed. */
  jwksFetches: 'oauth_m2m.jwks.fetches',
  /** Histogram, seconds: duration of a JWKS fetch, with the attributes of `jwksFetches`. */
  jwksFetchDuration: 'oauth_m2m.jwks.fetch.duration',
  /**
   * Histogram, seconds: requests answered by the reference authorization server, by endpoint,
   * client and outcome (from its `oauth-m2m:server:request` channel).
   */
  serverRequestDuration: 'oauth_m2m.server.request.duration',
} as const

/** Names of the attributes this package sets. */
export const ATTRIBUTE_NAMES = {
  /** Semantic convention: host of the authorization server, introspection or JWKS endpoint. */
  serverAddress: 'server.address',
  /** Semantic convention: its port (the scheme's default when the URL names none). */
  serverPort: 'server.port',
  /**
   * Semantic convention: the class of a failure. For a token request the token endpoint refused,
   * the OAuth error it answered (`invalid_client`, `invalid_scope`…); otherwise the oauth-m2m
   * error's `code` (`ERR_HTTP`, `ERR_TIMEOUT`, `ERR_INVALID_TOKEN`…), else the error's code or
   * name; on the server's metric, the OAuth error answered (`invalid_client`…), else the HTTP status.
   */
  errorType: 'error.type',
  /** Semantic convention: the HTTP status of the answer. */
  httpResponseStatusCode: 'http.response.status_code',
  /** Semantic convention: the HTTP method of a request the server answered (`_OTHER` for unknown ones). */
  httpRequestMethod: 'http.request.method',
  /**
   * The OAuth `client_id` of the client. On the server's metric only once the client is
   * authenticated, so that made-up ids cannot grow the metric without bound.
   */
  clientId: 'oauth_m2m.client.id',
  /** `true` for a background refresh of a stale token, which no caller waits for. */
  background: 'oauth_m2m.token_fetch.background',
  /** Attempts a token request made (span only). */
  attempts: 'oauth_m2m.token_fetch.attempts',
  /** Scopes requested, sorted (span only). */
  scopes: 'oauth_m2m.token.scopes',
  /** RFC 8707 resource indicators requested, sorted (span only). */
  resources: 'oauth_m2m.token.resources',
  /** Audiences requested, sorted (span only). */
  audiences: 'oauth_m2m.token.audiences',
  /** The failed attempt, from 1, on a retry event. */
  retryAttempt: 'oauth_m2m.retry.attempt',
  /** Wait before the next attempt, in seconds, on a retry event. */
  retryDelay: 'oauth_m2m.retry.delay',
  /** Result of a cache lookup: `hit`, `stale` or `miss`. */
  cacheResult: 'oauth_m2m.cache.result',
  /** The `TokenStore` method that failed: `get`, `set`, `delete`… */
  storeOperation: 'oauth_m2m.store.operation',
  /** The RFC 6750 error of a refused token: `invalid_token`, `insufficient_scope`… */
  oauthError: 'oauth_m2m.oauth.error',
  /** Outcome of `verify()`: `success` or `failure`. */
  verificationResult: 'oauth_m2m.verification.result',
  /** How a verified token was checked: `jwt` or `introspection` (successes only). */
  verificationSource: 'oauth_m2m.verification.source',
  /** `true` when the verifier's verified-token cache answered. */
  verificationCached: 'oauth_m2m.verification.cached',
  /** Outcome of an introspection call: `active`, `inactive` or `error`. */
  introspectionOutcome: 'oauth_m2m.introspection.outcome',
  /** Why the JWKS was fetched: `initial`, `expired`, `unknown-kid` or `manual`. */
  jwksReason: 'oauth_m2m.jwks.reason',
  /** Number of usable keys in a fetched JWKS (event only). */
  jwksKeyCount: 'oauth_m2m.jwks.key_count',
  /**
   * The server endpoint a request was routed to, as the server names it: `token`,
   * `introspection`, `revocation`, `jwks`, `metadata`, `registration`, `health`, `readiness`
   * (an endpoint moved or aliased keeps its name); `_OTHER` for a path the server does not serve.
   */
  serverEndpoint: 'oauth_m2m.server.endpoint',
  /** How a request to the server tried to authenticate its client (`client_secret_basic`…). */
  authMethod: 'oauth_m2m.client.auth_method',
} as const
