/**
 * The parameters of a token request that callers choose (`scope`, `resource`, `audience`, extra
 * parameters), checked and normalised the same way whether they come from `createTokenClient`,
 * `getToken` or `interceptor`: a bad one is a {@link ConfigurationError} naming where it came from.
 *
 * @module token-parameters
 */
import { ConfigurationError } from '@oauth-m2m/core'
import { isAbsoluteUriWithoutFragment, isScopeToken } from '@oauth-m2m/core/internal'

/** Token-request parameter names the client sets itself. */
export const RESERVED_PARAMS: ReadonlySet<string> = new Set([
  'grant_type',
  'scope',
  'resource',
  'audience',
  'client_id',
  'client_secret',
  'client_assertion',
  'client_assertion_type',
])

function fail(message: string): never {
  throw new ConfigurationError(message)
}

/** Splits a scope option into distinct scope tokens (RFC 6749 §3.3), refusing invalid characters. */
export function normalizeScopes(name: string, value: unknown): string[] {
  if (value === undefined) return []
  const list = typeof value === 'string' ? value.split(' ') : value
  if (!Array.isArray(list)) fail(`${name} must be a string or an array of strings`)
  const out = new Set<string>()
  for (const item of list as unknown[]) {
    if (typeof item !== 'string') fail(`${name} must be a string or an array of strings`)
    for (const scope of item.split(' ')) {
      if (scope === '') continue
      if (!isScopeToken(scope)) fail(`${name} has a scope with invalid characters`)
      out.add(scope)
    }
  }
  return [...out]
}

/** A one-or-many option as a list: a string is a list of one; anything else must be an array. */
function listOf(name: string, value: unknown): readonly unknown[] {
  if (value === undefined) return []
  if (typeof value === 'string') return [value]
  if (!Array.isArray(value)) fail(`${name} must be a string or an array of strings`)
  return value as unknown[]
}

/** Checks resource indicators: absolute URIs without a fragment (RFC 8707 §2). */
export function normalizeResources(name: string, value: unknown): string[] {
  const out = new Set<string>()
  for (const item of listOf(name, value)) {
    if (typeof item !== 'string') fail(`${name} must hold absolute URIs`)
    if (!isAbsoluteUriWithoutFragment(item as string)) {
      fail(
        (item as string).includes('#')
          ? `${name} must not hold a URI with a fragment`
          : `${name} must hold absolute URIs`,
      )
    }
    out.add(item)
  }
  return [...out]
}

/**
 * Checks audiences: non-empty strings, kept as given. Auth0's API identifiers are often URLs but
 * need not be, so no URI syntax is required.
 */
export function normalizeAudiences(name: string, value: unknown): string[] {
  const out = new Set<string>()
  for (const item of listOf(name, value)) {
    if (typeof item !== 'string' || item === '') fail(`${name} must hold non-empty strings`)
    out.add(item as string)
  }
  return [...out]
}

/** Checks extra token-request parameters: string values, no name the client sets itself. */
export function normalizeExtraParams(name: string, value: unknown): Record<string, string> {
  if (value === undefined) return {}
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(`${name} must be an object`)
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(value)) {
    if (RESERVED_PARAMS.has(k)) fail(`${name} must not set ${k}; the client sets it`)
    if (typeof v !== 'string') fail(`${name}.${k} must be a string`)
    out[k] = v
  }
  return out
}
