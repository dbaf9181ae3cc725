import * as core from '@oauth-m2m/core'
import * as internal from '@oauth-m2m/core/internal'
import * as internalTls from '@oauth-m2m/core/internal/tls'
import { describe, expect, it } from 'vitest'

describe('@oauth-m2m/core entry points', () => {
  // The public index is a chosen list: adding to it is a decision, made here on purpose.
  it('exports exactly the public API at the root', () => {
    expect(Object.keys(core).sort()).toEqual([
      'BearerError',
      'ConfigurationError',
      'DEFAULT_ASSERTION_LIFETIME_SEC',
      'DEFAULT_DISCOVERY_CACHE_TTL_MS',
      'DEFAULT_DISCOVERY_TIMEOUT_MS',
      'DEFAULT_JWKS_COOLDOWN_MS',
      'DEFAULT_JWKS_MAX_AGE_MS',
      'DEFAULT_JWKS_MAX_STALE_MS',
      'DEFAULT_JWKS_TIMEOUT_MS',
      'DiscoveryError',
      'HttpError',
      'InsufficientScopeError',
      'InvalidDpopProofError',
      'InvalidRequestError',
      'InvalidTokenError',
      'JWKS_ERROR_CHANNEL',
      'JWKS_FETCH_CHANNEL',
      'JWT_BEARER_ASSERTION_TYPE',
      'JwksCache',
      'JwksError',
      'JwksNoMatchingKeyError',
      'JwksUnavailableError',
      'NetworkError',
      'OAuthM2MError',
      'OAuthResponseError',
      'StoreUnavailableError',
      'TemporarilyUnavailableError',
      'TimeoutError',
      'UseDpopNonceError',
      'clearDiscoveryCache',
      'clientAssertion',
      'clientSecretBasic',
      'clientSecretJwt',
      'clientSecretPost',
      'discover',
      'privateKeyJwt',
      'selfSignedTlsClientAuth',
      'tlsClientAuth',
    ])
  })

  it('keeps the shared building blocks off the root, on the internal subpath', () => {
    for (const name of [
      'headerValue',
      'parseForm',
      'requestJson',
      'applyClientAuth',
      'isScopeToken',
      'deepFreeze',
    ]) {
      expect(core, name).not.toHaveProperty(name)
      expect(internal, name).toHaveProperty(name)
    }
  })

  it('keeps the mutual-TLS dispatcher, which loads undici, on its own internal subpath', () => {
    expect(internal).not.toHaveProperty('tlsClientDispatcher')
    expect(internalTls).toHaveProperty('tlsClientDispatcher')
    expect(internalTls).toHaveProperty('authenticatingDispatcher')
  })
})
