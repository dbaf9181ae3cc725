/**
 * Where a token may be sent. The rule, for `client.fetch` and `client.interceptor()` alike:
 *
 * 1. an explicit `origins` list, when given, is the whole answer;
 * 2. else the origins of the `resource` indicators (RFC 8707) the token is requested for and of
 *    its `audience` values, by one rule: those that are `https:` URLs, or `http:` on a loopback
 *    host, or `http:` anywhere when `allowInsecureHttp` is set (a bearer token over plain http can
 *    be read and replayed by anyone on the path). Other values (an audience that is not a URL, a
 *    `urn:` resource) name no origin;
 * 3. else nowhere: a `ConfigurationError` is thrown, because guessing (every origin, or the
 *    authorization server's) would leak the token.
 *
 * A request to any other origin is passed through untouched, without a token.
 *
 * @module allowed-origins
 */
import { ConfigurationError } from '@oauth-m2m/core'
import { isSecureTransport } from '@oauth-m2m/core/internal'

/** What a token is requested for, whose URLs name the origins it may go to. */
export interface TokenTargets {
  /** Resource indicators (absolute URIs). */
  readonly resources: readonly string[]
  /** Audiences (any strings). */
  readonly audiences: readonly string[]
}

/** No resource, no audience: only explicit origins count. */
export const NO_TARGETS: TokenTargets = Object.freeze({ resources: [], audiences: [] })

/** How {@link allowedOrigins} reads the targets, and whom it names in an error. */
export interface AllowedOriginsOptions {
  /** Who asks (`client.fetch`), for the error message. */
  where: string
  /** The client's option of that name: `http:` targets on non-loopback hosts count too. */
  allowInsecureHttp: boolean
}

/** The origin a token for `value` may be sent to, if `value` is a URL that passes the transport rule. */
function targetOrigin(value: string, allowInsecureHttp: boolean): string | undefined {
  const url = URL.canParse(value) ? new URL(value) : undefined
  if (url === undefined) return undefined
  if (isSecureTransport(url) || (allowInsecureHttp && url.protocol === 'http:')) return url.origin
  return undefined
}

/**
 * The set of origins a token may be attached to.
 *
 * @param origins Explicit origins (already normalised), if any.
 * @param targets Resource indicators and audiences the token is requested for.
 * @throws {ConfigurationError} when the set would be empty.
 */
export function allowedOrigins(
  origins: readonly string[] | undefined,
  targets: TokenTargets,
  { where, allowInsecureHttp }: AllowedOriginsOptions,
): ReadonlySet<string> {
  if (origins !== undefined && origins.length > 0) return new Set(origins)
  const out = new Set<string>()
  for (const target of [...targets.resources, ...targets.audiences]) {
    const origin = targetOrigin(target, allowInsecureHttp)
    if (origin !== undefined) out.add(origin)
  }
  if (out.size === 0) {
    throw new ConfigurationError(
      `${where}: no origin to send the token to; set \`origins\`, or a \`resource\` or \`audience\` that is an https URL (http only on a loopback host, or anywhere with allowInsecureHttp)`,
    )
  }
  return out
}

/**
 * Checks a list of bare http(s) origins and returns them normalised (`https://api.example.com`).
 * An `http:` origin must be on a loopback host unless `allowInsecureHttp`: the same transport rule
 * as for origins taken from resources and audiences.
 *
 * @param name Who gives the list, for the error message.
 * @throws {ConfigurationError} naming the first bad entry's problem.
 */
export function normalizeOrigins(
  name: string,
  value: unknown,
  { allowInsecureHttp }: { allowInsecureHttp: boolean },
): string[] {
  const fail = (message: string): never => {
    throw new ConfigurationError(message)
  }
  if (!Array.isArray(value)) fail(`${name} must be an array of origins`)
  return (value as unknown[]).map((item) => {
    if (typeof item !== 'string' || !URL.canParse(item)) fail(`${name} must hold absolute http(s) origins`)
    const url = new URL(item as string)
    if (url.protocol !== 'https:' && url.protocol !== 'http:') fail(`${name} must hold http(s) origins`)
    if (!isSecureTransport(url) && !allowInsecureHttp) {
      fail(`${name}: ${url.origin} uses http: on a non-loopback host; use https: or set allowInsecureHttp`)
    }
    if (url.pathname !== '/' || url.search !== '' || url.hash !== '' || url.username !== '') {
      fail(`${name} must hold bare origins such as https://api.example.com, without a path`)
    }
    return url.origin
  })
}
