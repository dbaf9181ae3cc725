/**
 * RFC 8705 §5: an authorization server may serve mutual TLS on other hosts or ports than its
 * conventional endpoints (a listener that asks for client certificates beside one that does not),
 * and names them in its metadata under `mtls_endpoint_aliases`. A client that presents a
 * certificate uses the alias when there is one, and the conventional endpoint otherwise.
 *
 * @module mtls-endpoint-aliases
 */
import { type AuthorizationServerMetadata, DiscoveryError } from '@oauth-m2m/core'

/**
 * The token endpoint a mutual-TLS client uses: `mtls_endpoint_aliases.token_endpoint` when the
 * metadata has one, else `undefined` (the conventional `token_endpoint` applies).
 *
 * @throws {DiscoveryError} when `mtls_endpoint_aliases` is present but not an object, or its
 *   `token_endpoint` is present but not an absolute URL: a server that names an alias means it, and
 *   silently using the conventional endpoint would send the request where no certificate is asked for.
 */
export function mtlsTokenEndpoint(metadata: AuthorizationServerMetadata, issuer: string): string | undefined {
  const aliases = metadata.mtls_endpoint_aliases
  if (aliases === undefined) return undefined
  if (typeof aliases !== 'object' || aliases === null || Array.isArray(aliases)) {
    throw new DiscoveryError(`the mtls_endpoint_aliases of ${issuer} is not an object`)
  }
  const endpoint = (aliases as Record<string, unknown>).token_endpoint
  if (endpoint === undefined) return undefined
  if (typeof endpoint !== 'string' || !URL.canParse(endpoint)) {
    throw new DiscoveryError(`the mtls_endpoint_aliases of ${issuer} has no valid token_endpoint`)
  }
  return endpoint
}
