/**
 * The URL a DPoP proof must name (RFC 9449 §4.3 `htu`): the one the client sent the request to.
 * Behind a proxy that is not the URL this process sees, so it comes from the `publicBaseUrl`
 * option when given; otherwise from the request as the framework gives it. `X-Forwarded-*` headers
 * are never read here: any client can send them.
 *
 * @module middleware/request-url
 */
import { ConfigurationError, InvalidRequestError } from '@oauth-m2m/core'
import { normalizeHtu } from '@oauth-m2m/core/internal'

/** `publicBaseUrl` checked: where the public URL ends and the request's own path begins. */
export interface PublicBaseUrl {
  /** `https://api.example.com` */
  readonly origin: string
  /** The path a proxy strips before forwarding, without a trailing `/`: `''` or `/api`. */
  readonly pathPrefix: string
}

/**
 * Checks the `publicBaseUrl` option: an absolute http(s) URL without query, fragment or user
 * information.
 *
 * @throws {ConfigurationError} for anything else.
 */
export function resolvePublicBaseUrl(value: string | URL | undefined): PublicBaseUrl | undefined {
  if (value === undefined) return undefined
  const fail = (): never => {
    throw new ConfigurationError(
      'bearer auth: publicBaseUrl must be an absolute http(s) URL without query, fragment or user information',
    )
  }
  if (typeof value !== 'string' && !(value instanceof URL)) fail()
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return fail()
  }
  if (normalizeHtu(url) === undefined || url.search !== '' || url.hash !== '') fail()
  if (typeof value === 'string' && /[?#]/.test(value)) fail()
  return Object.freeze({ origin: url.origin, pathPrefix: url.pathname.replace(/\/+$/, '') })
}

const ABSOLUTE_FORM = /^https?:\/\//i

function cannotRebuild(why: string): never {
  throw new InvalidRequestError(`the URL of this request cannot be rebuilt for its DPoP proof: ${why}`)
}

/**
 * The absolute URL of a request for DPoP.
 *
 * @param target - the request target as the framework gives it: origin-form (`/things?x=1`) or
 *   absolute-form (`http://host/things`, which proxies send).
 * @param origin - the scheme and authority the framework knows (`http://host:port`), read only
 *   without `publicBaseUrl`; `undefined` when it has none (no `Host` header).
 * @throws {InvalidRequestError} when no URL can be rebuilt (400, not a refusal of the token).
 */
export function dpopRequestUrl(
  target: string | undefined,
  origin: () => string | undefined,
  base: PublicBaseUrl | undefined,
): string {
  let path: string
  if (target?.startsWith('/')) {
    path = target
  } else if (target !== undefined && ABSOLUTE_FORM.test(target)) {
    if (base === undefined) {
      if (normalizeHtu(target) === undefined) cannotRebuild('the request target is not a valid URL')
      return target
    }
    try {
      const url = new URL(target)
      path = url.pathname + url.search
    } catch {
      return cannotRebuild('the request target is not a valid URL')
    }
  } else {
    return cannotRebuild('the request target is not a path')
  }
  let url: string
  if (base !== undefined) {
    url = base.origin + base.pathPrefix + path
  } else {
    const own = origin()
    if (own === undefined) cannotRebuild('it has no valid Host header (set publicBaseUrl)')
    url = own + path
  }
  if (normalizeHtu(url) === undefined) cannotRebuild('its host or path is not valid in a URL')
  return url
}

// RFC 3986 §3.2.2 host (reg-name or IP literal) and optional port: no `/`, `@`, `?` or `#` that
// would move the rest of a Host header into the path or the user information.
const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]+)(?::[0-9]*)?$/

/** `scheme://host` from a `Host` header value, or `undefined` when there is none or it is not a host. */
export function originOf(scheme: string, host: string | undefined): string | undefined {
  if (host === undefined || !HOST.test(host)) return undefined
  return `${scheme}://${host}`
}
