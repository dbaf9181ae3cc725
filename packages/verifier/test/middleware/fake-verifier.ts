/**
 * A hand-written `Verifier` for middleware tests: the middleware's contract is this interface, so
 * most tests need no authorization server. Tokens it knows:
 *
 * - `good.token`: client `service-a` with scope `read`;
 * - `admin.token`: client `service-admin` with scopes `read admin`;
 * - `unavailable.token`: the keys cannot be fetched (`TemporarilyUnavailableError`);
 * - `broken.token`: a bug inside the verifier (a plain `Error`);
 * - anything else: `InvalidTokenError('the token is not valid')`.
 */
import { InsufficientScopeError, InvalidTokenError, TemporarilyUnavailableError } from '@oauth-m2m/core'
import type { Principal, Verifier, VerifyOptions } from '@oauth-m2m/verifier'

function principal(clientId: string, scopes: string[]): Principal {
  return {
    clientId,
    subject: clientId,
    scopes,
    audience: ['https://things.example'],
    issuer: 'https://as.example',
    expiresAt: Date.now() + 60_000,
    jti: `${clientId}-jti`,
    claims: { client_id: clientId, scope: scopes.join(' ') },
    source: 'jwt',
  }
}

/** One call the middleware made. */
export interface VerifyCall {
  token: string
  requiredScopes: readonly string[] | undefined
  signal: AbortSignal | undefined
}

/** The fake, with the calls it received. */
export interface FakeVerifier extends Verifier {
  readonly calls: VerifyCall[]
}

/** Creates a fresh fake. */
export function fakeVerifier(): FakeVerifier {
  const calls: VerifyCall[] = []
  const known: Record<string, Principal> = {
    'good.token': principal('service-a', ['read']),
    'admin.token': principal('service-admin', ['read', 'admin']),
  }
  return {
    calls,
    async verify(token: string, options?: VerifyOptions) {
      calls.push({ token, requiredScopes: options?.requiredScopes, signal: options?.signal })
      if (token === 'unavailable.token')
        throw new TemporarilyUnavailableError('JWKS endpoint http://10.0.0.7/jwks down')
      if (token === 'broken.token') throw new Error('internal detail that must not reach the caller')
      const found = known[token]
      if (!found) throw new InvalidTokenError('the token is not valid')
      const required = options?.requiredScopes ?? []
      if (!required.every((s) => found.scopes.includes(s))) throw new InsufficientScopeError(required)
      return found
    },
    async close() {},
  }
}
