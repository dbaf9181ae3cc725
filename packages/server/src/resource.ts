/**
 * Resource indicators (RFC 8707): which audience, format and lifetime a token gets, from the
 * request's `resource` values, the client's allowance and each resource's settings.
 *
 * @module resource
 */
import { isAbsoluteUriWithoutFragment } from '@oauth-m2m/core/internal'
import type { RegisteredClient } from './client-registry.js'
import { type EndpointResponse, oauthError } from './http-response.js'

/** Format of the access tokens issued for a resource. */
export type TokenFormat = 'jwt' | 'opaque'

/** One configured resource (RFC 8707 resource indicator) with every default filled in. */
export interface ResourceSettings {
  /** The resource indicator: an absolute URI without fragment. */
  readonly resource: string
  /** The `aud` of tokens for this resource. */
  readonly audience: string
  /** Format of tokens for this resource. */
  readonly tokenFormat: TokenFormat
  /** Lifetime of tokens for this resource, in seconds. */
  readonly accessTokenLifetimeSec: number
}

/** What a token is for and how it is made. */
export interface TokenTarget {
  /** The `aud` claim: one audience, or several when the client combined resources. */
  readonly audience: string | string[]
  /** How the token is made. */
  readonly format: TokenFormat
  /** Lifetime of the token, in seconds. */
  readonly lifetimeSec: number
}

/** Outcome of {@link ResourceResolver.resolve}. */
export type TargetResult =
  | { target: TokenTarget; error?: undefined }
  | { target?: undefined; error: EndpointResponse }

function invalidTarget(description: string): TargetResult {
  return { error: oauthError(400, 'invalid_target', description) }
}

/** Resolves the requested resources of a token request. */
export class ResourceResolver {
  readonly #resources: ReadonlyMap<string, TokenTarget>
  readonly #default: TokenTarget
  readonly #defaultResource: string | undefined

  /**
   * @param resources The configured resources.
   * @param defaultTarget Audience, format and lifetime of a token requested without `resource`.
   * @param defaultResource The configured `defaultAudience`, if any (without it, the issuer is the
   *   audience, which no API accepts as its own).
   */
  constructor(
    resources: readonly ResourceSettings[],
    defaultTarget: TokenTarget,
    defaultResource: string | undefined,
  ) {
    this.#resources = new Map(
      resources.map((r) => [
        r.resource,
        { audience: r.audience, format: r.tokenFormat, lifetimeSec: r.accessTokenLifetimeSec },
      ]),
    )
    this.#default = defaultTarget
    this.#defaultResource = defaultResource
  }

  /** The target of a token for `client` asking for `requested` resources (none: the default). */
  resolve(requested: readonly string[] | undefined, client: RegisteredClient): TargetResult {
    if (requested === undefined) {
      // A client held to some resources must not reach another one by naming none.
      const allowed = client.allowedResources
      if (allowed && this.#defaultResource !== undefined && !allowed.has(this.#defaultResource)) {
        return invalidTarget('this client may only get tokens for its own resources: name one with resource')
      }
      return { target: this.#default }
    }
    const targets: TokenTarget[] = []
    for (const resource of requested.length === 1 ? requested : new Set(requested)) {
      // Configured resources were checked at load, so only a miss needs parsing (the hot path
      // is a map hit) to tell a malformed indicator from an unknown one.
      const target = this.#resources.get(resource)
      if (target === undefined && !isAbsoluteUriWithoutFragment(resource)) {
        return invalidTarget('resource must be an absolute URI without a fragment (RFC 8707 section 2)')
      }
      if (target === undefined || (client.allowedResources && !client.allowedResources.has(resource))) {
        return invalidTarget('a requested resource is not available to this client')
      }
      targets.push(target)
    }
    const [first, ...others] = targets as [TokenTarget, ...TokenTarget[]]
    if (others.length === 0) return { target: first }
    if (!client.allowMultipleResources)
      return invalidTarget('this client may name only one resource per token')
    if (others.some((t) => t.format !== first.format)) {
      return invalidTarget('the requested resources use different token formats and cannot share a token')
    }
    return {
      target: {
        audience: [...new Set(targets.map((t) => t.audience as string))],
        format: first.format,
        lifetimeSec: Math.min(...targets.map((t) => t.lifetimeSec)),
      },
    }
  }
}
