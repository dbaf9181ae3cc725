/**
 * The checks `createVerifier` applies to option values, shared by the modules that resolve one
 * group of options each: every refusal is a `ConfigurationError` that names the option.
 *
 * @module option-checks
 */
import { ConfigurationError } from '@oauth-m2m/core'
import { isSecureTransport } from '@oauth-m2m/core/internal'

/** Refuses the configuration. @throws {ConfigurationError} always. */
export function invalid(message: string): never {
  throw new ConfigurationError(`createVerifier: ${message}`)
}

/** A string or a non-empty array of non-empty strings, as an array. */
export function nonEmptyStrings(value: unknown, name: string): string[] {
  const list = typeof value === 'string' ? [value] : value
  if (!Array.isArray(list) || list.length === 0)
    invalid(`${name} must be a non-empty string or array of strings`)
  for (const item of list) {
    if (typeof item !== 'string' || item === '') invalid(`${name} must hold non-empty strings only`)
  }
  return [...(list as string[])]
}

/** A positive (by default integer) number, or `fallback` when not given. */
export function positive(value: number | undefined, name: string, fallback: number, integer = true): number {
  if (value === undefined) return fallback
  if (
    typeof value !== 'number' ||
    !(value > 0) ||
    !Number.isFinite(value) ||
    (integer && !Number.isInteger(value))
  ) {
    invalid(`${name} must be a positive ${integer ? 'integer' : 'number'}`)
  }
  return value
}

/** A non-negative number of milliseconds, or `fallback` when not given. */
export function nonNegativeMs(value: number | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    invalid(`${name} must be a non-negative number of milliseconds`)
  }
  return value
}

/**
 * An absolute http(s) URL the verifier sends requests to, serialised, or `undefined` when not
 * given. It must follow core's transport rule (https, or http to a loopback host) unless
 * `allowInsecureHttp`: the JWKS could otherwise be spoofed, and introspection would send the
 * token and the resource server's credentials in clear.
 */
export function url(
  value: string | URL | undefined,
  name: string,
  allowInsecureHttp: boolean,
): string | undefined {
  if (value === undefined) return undefined
  let parsed: URL
  try {
    parsed = new URL(value)
  } catch {
    invalid(`${name} is not an absolute URL`)
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') invalid(`${name} must be an http(s) URL`)
  if (!isSecureTransport(parsed) && !allowInsecureHttp) {
    invalid(`${name} uses http: on a non-loopback host; use https: or set allowInsecureHttp`)
  }
  return parsed.href
}
