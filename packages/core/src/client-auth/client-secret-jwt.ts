import { ConfigurationError } from '../errors.js'
import { addClientAssertion, assertAssertionOptions } from './assertion.js'
import { assertSecretSource, resolveSecret } from './secret-source.js'
import type { AssertionOptions, ClientAuthStrategy, SecretSource } from './types.js'

/** Options of {@link clientSecretJwt}. */
export interface ClientSecretJwtOptions extends AssertionOptions {
  /** HMAC algorithm. Default `HS256`. */
  alg?: 'HS256' | 'HS384' | 'HS512'
}

const HMAC_ALGS = new Set(['HS256', 'HS384', 'HS512'])

/**
 * `client_secret_jwt` (RFC 7523 §2.2, OIDC Core §9): a fresh HMAC-signed assertion per request,
 * keyed with the client secret. The assertion follows draft-ietf-oauth-rfc7523bis-11 (the newest
 * revision, in the RFC Editor queue): `aud` is the issuer identifier as one string when the issuer
 * is known, and the header has `typ: client-authentication+jwt`; see {@link AssertionOptions} for
 * servers that want the token endpoint or `typ: JWT`.
 *
 * @param secret The client secret, or a function returning the current one.
 */
export function clientSecretJwt(
  secret: SecretSource,
  options: ClientSecretJwtOptions = {},
): ClientAuthStrategy {
  assertSecretSource(secret, 'clientSecretJwt')
  assertAssertionOptions(options, 'clientSecretJwt')
  const alg = options.alg ?? 'HS256'
  if (!HMAC_ALGS.has(alg)) throw new ConfigurationError(`clientSecretJwt: unsupported alg ${String(alg)}`)
  const encoder = new TextEncoder()
  return {
    method: 'client_secret_jwt',
    async apply(request, context) {
      const value = await resolveSecret(secret)
      const assertion = await addClientAssertion(request, context, encoder.encode(value), { alg }, options)
      // The secret never travels, but a server that knows it may still quote it.
      return { sensitive: [value, assertion] }
    },
  }
}
