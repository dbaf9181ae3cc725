/**
 * The input checks every provider preset shares: the values a preset puts into URLs and issuer
 * identifiers are refused when they are empty, padded, or could change the URL they are put into
 * (a `/`, `?`, `#`, `%`, `@`, a space or a control character), so a typo ends in a
 * `ConfigurationError` at start-up instead of a verifier that asks the wrong host or refuses every
 * token.
 *
 * @module presets/preset-input
 */
import { ConfigurationError } from '@oauth-m2m/core'
import { isSecureTransport } from '@oauth-m2m/core/internal'

/** Throws the `ConfigurationError` of preset `preset` (e.g. `entraId`). */
export function presetError(preset: string, message: string): never {
  throw new ConfigurationError(`${preset}: ${message}`)
}

/** Checks that the preset got an options object. */
export function presetOptions<T extends object>(preset: string, options: T): T {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    presetError(preset, 'options are required')
  }
  return options
}

// Characters that would end, re-route or re-encode the URL part a value is put into.
const URL_BREAKING = /[\s/?#%@\\\p{Cc}]/u

/**
 * A non-empty string without surrounding or inner whitespace and without characters that
 * change a URL; `pattern` narrows it further (with `shape` naming what it expects).
 */
export function urlSafeText(
  preset: string,
  name: string,
  value: unknown,
  pattern?: RegExp,
  shape?: string,
): string {
  if (typeof value !== 'string' || value === '') presetError(preset, `${name} must be a non-empty string`)
  if (URL_BREAKING.test(value)) {
    presetError(preset, `${name} must not contain whitespace, "/", "?", "#", "%", "@" or "\\"`)
  }
  if (pattern !== undefined && !pattern.test(value)) presetError(preset, `${name} must be ${shape}`)
  return value
}

/**
 * The audience option: a non-empty string or a non-empty list of them, copied. (The verifier
 * compares it exactly with `aud`, so it is not otherwise rewritten.)
 */
export function audienceInput(preset: string, value: unknown): string | readonly string[] {
  const list = typeof value === 'string' ? [value] : value
  if (!Array.isArray(list) || list.length === 0) {
    presetError(preset, 'audience must be a non-empty string or a non-empty array of strings')
  }
  for (const item of list) {
    if (typeof item !== 'string' || item.trim() === '' || item.trim() !== item) {
      presetError(preset, 'audience must hold non-empty strings without surrounding whitespace')
    }
  }
  return typeof value === 'string' ? value : Object.freeze([...(list as string[])])
}

const HOST_NAME =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/

/**
 * A DNS host name of at least two labels (`acme.us.auth0.com`), without scheme, port or path,
 * returned in lower case (the form URLs and issuers use).
 */
export function hostNameInput(preset: string, name: string, value: unknown, example: string): string {
  if (typeof value === 'string' && value.includes('://')) {
    presetError(preset, `${name} is a host name such as ${example}, without a scheme`)
  }
  return urlSafeText(preset, name, value, HOST_NAME, `a host name such as ${example}`).toLowerCase()
}

/**
 * An absolute `https` URL without query, fragment or credentials (`http` is allowed only to a
 * loopback host when `loopbackHttp` is true, for locally run servers); returned parsed.
 */
export function httpsUrlInput(preset: string, name: string, value: unknown, loopbackHttp: boolean): URL {
  if (typeof value !== 'string' || value === '' || value.trim() !== value) {
    presetError(preset, `${name} must be a non-empty URL string`)
  }
  let url: URL
  try {
    url = new URL(value)
  } catch {
    presetError(preset, `${name} must be an absolute URL`)
  }
  const secure = url.protocol === 'https:' || (loopbackHttp && isSecureTransport(url))
  if (!secure) {
    presetError(
      preset,
      `${name} must be an https URL${loopbackHttp ? ' (http only to a loopback host)' : ''}`,
    )
  }
  if (value.includes('?') || value.includes('#'))
    presetError(preset, `${name} must not have a query or fragment`)
  if (url.username !== '' || url.password !== '') presetError(preset, `${name} must not carry credentials`)
  return url
}
