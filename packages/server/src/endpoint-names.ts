/**
 * Which endpoint a request path belongs to, by name, for the request diagnostics: the router
 * matches paths, and a path says nothing once an endpoint is moved or aliased.
 *
 * @module endpoint-names
 */
import type { ServerEndpoint } from './diagnostics.js'
import { HEALTH_PATH, READY_PATH } from './health-endpoints.js'
import type { EndpointLocations } from './metadata.js'
import type { MtlsEndpointAliases } from './mtls-settings.js'

/** The endpoint of each path the server routes, registration paths aside. */
export class EndpointNames {
  readonly #byPath = new Map<string, ServerEndpoint>()
  readonly #registrationPath: string | undefined

  constructor(locations: EndpointLocations, aliases: Readonly<MtlsEndpointAliases> = {}) {
    const { paths } = locations
    // In reverse order of the router's precedence: a later entry wins a shared path, as it does there.
    const named: [ServerEndpoint, string | undefined][] = [
      ['health', HEALTH_PATH],
      ['readiness', READY_PATH],
      ['jwks', paths.jwks],
      ...paths.metadata.map((path): [ServerEndpoint, string] => ['metadata', path]),
      ['token', aliasPath(aliases.token_endpoint)],
      ['introspection', aliasPath(aliases.introspection_endpoint)],
      ['revocation', aliasPath(aliases.revocation_endpoint)],
      ['token', paths.token],
      ['introspection', paths.introspect],
      ['revocation', paths.revoke],
    ]
    for (const [name, path] of named) if (path !== undefined) this.#byPath.set(path, name)
    this.#registrationPath = paths.register
  }

  /** The endpoint of a request target (a path with an optional query); `undefined` for none. */
  of(url: string): ServerEndpoint | undefined {
    const query = url.indexOf('?')
    const path = query === -1 ? url : url.slice(0, query)
    const name = this.#byPath.get(path)
    if (name !== undefined) return name
    const registration = this.#registrationPath
    if (registration !== undefined && (path === registration || path.startsWith(`${registration}/`))) {
      return 'registration'
    }
    return undefined
  }
}

function aliasPath(alias: string | undefined): string | undefined {
  return alias === undefined ? undefined : new URL(alias).pathname
}
