/**
 * The per-request scope check of `verify(token, { scopes })`.
 *
 * @module scopes
 */
import { InsufficientScopeError } from '@oauth-m2m/core'
import type { Principal } from './types.js'

/** Whether the principal holds every scope in `required`. */
export function hasScopes(principal: Principal, required: readonly string[] | undefined): boolean {
  if (required === undefined) return true
  for (const scope of required) if (!principal.scopes.includes(scope)) return false
  return true
}

/**
 * @throws {InsufficientScopeError} listing every required scope when the principal lacks any of them.
 */
export function requireScopes(principal: Principal, required: readonly string[] | undefined): void {
  if (!hasScopes(principal, required)) throw new InsufficientScopeError(required!)
}
