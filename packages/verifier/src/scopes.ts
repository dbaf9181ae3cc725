/**
 * The per-request scope check of `verify(token, { scopes })`.
 *
 * @module scopes
 */
import { InsufficientScopeError } from '@oauth-m2m/core'
import type { Principal } from './types.js'

/**
 * @throws {InsufficientScopeError} listing every required scope when the principal lacks any of them.
 */
export function requireScopes(principal: Principal, required: readonly string[] | undefined): void {
  if (required === undefined || required.length === 0) return
  for (const scope of required) {
    if (!principal.scopes.includes(scope)) throw new InsufficientScopeError(required)
  }
}
