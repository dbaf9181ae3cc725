/**
 * Which endpoint of a server a request path is, read from the server's own metadata: what the
 * request log records and what failures are injected into.
 *
 * @module endpoint-kinds
 */
import type { AuthorizationServer } from '@oauth-m2m/server'

/** The endpoints of a test server that the request log names and failures target. */
export type EndpointKind = 'token' | 'introspect' | 'jwks' | 'revoke' | 'metadata'

/** Every {@link EndpointKind}. */
export const ENDPOINT_KINDS: readonly EndpointKind[] = Object.freeze([
  'token',
  'introspect',
  'jwks',
  'revoke',
  'metadata',
])

/** Tells a request path's endpoint, and whether a URL belongs to the server at all. */
export interface EndpointMap {
  /** The endpoint at `path` (no query), or `undefined` for a path that is none of them. */
  kindOf(path: string): EndpointKind | undefined
  /**
   * Whether `url` is for this server: one of its endpoints (on whatever host the metadata puts
   * it), or any path under the issuer at the issuer's origin.
   */
  owns(url: URL): boolean
}

function pathOf(url: string): string {
  return new URL(url).pathname
}

/**
 * The endpoint map of `server`, whose issuer must be known.
 *
 * Metadata lives at the RFC 8414 §3 location (`/.well-known/oauth-authorization-server` inserted
 * before the issuer's path), at the OpenID Connect location (`{issuer}/.well-known/openid-configuration`,
 * which discovery falls back to) and at `extraMetadataUrls` (a server configured to publish its
 * metadata elsewhere too).
 */
export function endpointMap(
  server: AuthorizationServer,
  extraMetadataUrls: readonly string[] = [],
): EndpointMap {
  const metadata = server.metadata
  const issuer = new URL(metadata.issuer)
  const basePath = issuer.pathname.replace(/\/+$/, '')
  const byPath = new Map<string, EndpointKind>([
    [`/.well-known/oauth-authorization-server${basePath}`, 'metadata'],
    [`${basePath}/.well-known/openid-configuration`, 'metadata'],
    ...extraMetadataUrls.map((url) => [pathOf(url), 'metadata'] as const),
    [pathOf(metadata.token_endpoint), 'token'],
    [pathOf(metadata.jwks_uri), 'jwks'],
    [pathOf(metadata.introspection_endpoint), 'introspect'],
    [pathOf(metadata.revocation_endpoint), 'revoke'],
  ])
  const endpointUrls = new Set(
    [
      metadata.token_endpoint,
      metadata.jwks_uri,
      metadata.introspection_endpoint,
      metadata.revocation_endpoint,
      ...extraMetadataUrls,
    ].map((url) => {
      const parsed = new URL(url)
      return parsed.origin + parsed.pathname
    }),
  )
  return {
    kindOf: (path) => byPath.get(path),
    owns(url) {
      if (endpointUrls.has(url.origin + url.pathname)) return true
      if (url.origin !== issuer.origin) return false
      const path = url.pathname
      return byPath.has(path) || basePath === '' || path === basePath || path.startsWith(`${basePath}/`)
    },
  }
}
