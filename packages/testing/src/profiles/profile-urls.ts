/**
 * The URLs of a profile: the provider's own (`https://login.microsoftonline.com/…`), or the same
 * paths on another origin (the listener's, for a server run outside Node tests, where nothing can
 * route the provider's host to it). Also the resource indicator behind an audience that is no URI.
 *
 * @module profiles/profile-urls
 */
import { isAbsoluteUriWithoutFragment } from '@oauth-m2m/core/internal'
import type { ProfileEndpoints } from './provider-profile.js'

/** Options every profile resolver takes besides the provider's settings. */
export interface ProfileUrlOptions {
  /**
   * Serve the provider's paths on this origin (e.g. `http://127.0.0.1:4000`) instead of on the
   * provider's hosts: the issuer becomes `{origin}{provider's issuer path}`. Default: the
   * provider's hosts, which `as.dispatcher` routes to the test server.
   */
  readonly origin?: string | undefined
}

/** `url` with its origin replaced by `origin` (path and query kept); `url` itself without one. */
export function atOrigin(url: string, origin: string | undefined): string {
  if (origin === undefined) return url
  const parsed = new URL(url)
  return new URL(`${parsed.pathname}${parsed.search}`, origin).href
}

/** The distinct hosts (`URL.host`) of the issuer and every endpoint, in order. */
export function profileHosts(issuer: string, endpoints: ProfileEndpoints): string[] {
  const { token, jwks, introspection, revocation, metadata } = endpoints
  const urls = [issuer, token, jwks, introspection, revocation, ...metadata]
  return [...new Set(urls.filter((url) => url !== undefined).map((url) => new URL(url).host))]
}

/**
 * The RFC 8707 resource indicator the server registers for `audience`: the audience itself when
 * it is an absolute URI, else a URN made from it (Auth0 API identifiers, Keycloak client ids and
 * Okta audiences need not be URIs, while the server's resource indicators must be).
 */
export function resourceIndicatorFor(audience: string): string {
  return isAbsoluteUriWithoutFragment(audience)
    ? audience
    : `urn:oauth-m2m:testing:audience:${encodeURIComponent(audience)}`
}
