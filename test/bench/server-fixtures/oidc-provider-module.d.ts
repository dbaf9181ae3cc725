/**
 * The part of oidc-provider 9's API the bench fixture uses: the package ships no type
 * declarations and `@types/oidc-provider` is not a dependency of the bench.
 */
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http'

  /** An OpenID Provider / OAuth 2.0 authorization server. */
  export default class Provider {
    constructor(issuer: string, configuration: Record<string, unknown>)
    /** A node:http request listener. */
    callback(): (req: IncomingMessage, res: ServerResponse) => void
    static readonly errors: { InvalidTarget: new (description?: string) => Error }
  }
}
