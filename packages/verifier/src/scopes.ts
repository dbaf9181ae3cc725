/**
 * Required scopes: what a request needs (`verify(token, { requiredScopes })`, the middleware's
 * `requiredScopes`), checked against what the token grants (`principal.scopes`).
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

/**
 * The message refusing `scopes`, the former name of `requiredScopes`, when `options` still uses it;
 * `undefined` otherwise. Refused rather than ignored: a route whose requirement silently vanished
 * would let every valid token through, whatever it grants.
 */
export function renamedScopesOption(options: object, where: string): string | undefined {
  if ((options as { scopes?: unknown }).scopes === undefined) return undefined
  return `${where}: "scopes" is now named "requiredScopes"`
}
