/**
 * The scope a token is granted (RFC 6749 §3.3): the request's scope when it is well-formed and
 * inside the client's allowance, the client's registered scope when the request names none.
 *
 * @module scope
 */
import { parseScopeParameter } from '@oauth-m2m/core/internal'
import type { RegisteredClient } from './client-registry.js'
import { type EndpointResponse, oauthError } from './http-response.js'

/** Outcome of {@link grantScope}. */
export type ScopeResult =
  | { scope: string; error?: undefined }
  | { scope?: undefined; error: EndpointResponse }

/** Decides the scope of a token for `client` from the request's `scope` parameter. */
export function grantScope(requested: string | undefined, client: RegisteredClient): ScopeResult {
  if (requested === undefined) return { scope: client.defaultScope }
  // A doubled, leading or trailing space is outside the grammar too.
  const tokens = parseScopeParameter(requested)
  if (tokens === undefined) {
    return { error: oauthError(400, 'invalid_scope', 'scope is not a space-separated list of scope tokens') }
  }
  const granted: string[] = []
  for (const token of tokens) {
    if (!client.scopes.has(token)) {
      return { error: oauthError(400, 'invalid_scope', 'a requested scope is not allowed for this client') }
    }
    if (!granted.includes(token)) granted.push(token)
  }
  return { scope: granted.join(' ') }
}
