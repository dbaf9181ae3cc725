/**
 * The key of a token request: which token a call means. A token is requested and cached per token
 * endpoint, client id, DPoP key thumbprint (for a DPoP client), client certificate thumbprint (for a
 * mutual-TLS client), sorted scopes, sorted resources, sorted audiences and extra parameters; two
 * calls asking for the same thing in a different order share one token, and a token bound to one
 * DPoP key or certificate is never served to a client holding another (a fleet sharing a store,
 * each instance with its own certificate). (In OAuth the grant is `client_credentials`; this is
 * what one request of it asks for.)
 *
 * @module token-request-key
 */
import { LRUCache } from 'lru-cache'
import {
  normalizeAudiences,
  normalizeExtraParams,
  normalizeResources,
  normalizeScopes,
} from './token-parameters.js'

/** What one `getToken` call asks for; anything left out falls back to the client's options. */
export interface TokenParams {
  /** Scopes to request instead of the client's `scope` (string with spaces, or a list). */
  scope?: string | readonly string[]
  /** RFC 8707 resource indicators to request instead of the client's `resource`. */
  resource?: string | readonly string[]
  /** Audiences (`audience` parameters, e.g. Auth0's API identifier) instead of the client's `audience`. */
  audience?: string | readonly string[]
  /** Extra token-request parameters, merged over the client's `extraParams`. */
  extraParams?: Readonly<Record<string, string>>
  /** Stops waiting for the token. A request shared with other callers goes on for them. */
  signal?: AbortSignal
}

/** What one token request asks for, normalised, and the cache key it lives under. */
export interface TokenRequestKey {
  /** Cache and store key (the `key` of diagnostics payloads). Holds no secret. */
  readonly cacheKey: string
  /** Sorted, distinct scopes. */
  readonly scopes: readonly string[]
  /** Sorted, distinct resource indicators. */
  readonly resources: readonly string[]
  /** Sorted, distinct audiences. */
  readonly audiences: readonly string[]
  /** Extra parameters, sorted by name. */
  readonly extraParams: readonly (readonly [string, string])[]
}

const GETTOKEN = 'getToken'

/** What a client's tokens may be bound to, each part of the cache key when present. */
export interface TokenBinding {
  /** RFC 7638 thumbprint of the client's DPoP key. */
  jkt?: string | undefined
  /** base64url SHA-256 thumbprint of the client's TLS certificate. */
  x5t?: string | undefined
}

/** The client's defaults, which a call's parameters replace (extra parameters: merge over). */
export interface TokenRequestDefaults {
  scopes: readonly string[]
  resources: readonly string[]
  audiences: readonly string[]
  extraParams: Readonly<Record<string, string>>
}

/** Turns call parameters into {@link TokenRequestKey}s, remembering recent answers so repeated calls cost a lookup. */
export class TokenRequestKeys {
  /** The key of a call without parameters, computed once. */
  readonly defaultKey: TokenRequestKey
  readonly #prefix: string
  readonly #defaults: TokenRequestDefaults
  readonly #recent = new LRUCache<string, TokenRequestKey>({ max: 256 })

  /**
   * @param endpointId Identifies the authorization server: the token endpoint, or the issuer when
   *   the endpoint is discovered.
   * @param binding What the client's tokens may be bound to: `jkt`, the RFC 7638 thumbprint of its
   *   DPoP key; `x5t`, the SHA-256 thumbprint of its TLS client certificate (RFC 8705 §3.1).
   */
  constructor(
    endpointId: string,
    clientId: string,
    defaults: TokenRequestDefaults,
    binding: TokenBinding = {},
  ) {
    // A bound client's keys have one more element, an object, where others have the parameters'
    // array: the two forms cannot collide, and keys of unbound clients keep their earlier form.
    const bound: { jkt?: string; 'x5t#S256'?: string } = {}
    if (binding.jkt !== undefined) bound.jkt = binding.jkt
    if (binding.x5t !== undefined) bound['x5t#S256'] = binding.x5t
    const owner = Object.keys(bound).length === 0 ? [endpointId, clientId] : [endpointId, clientId, bound]
    this.#prefix = JSON.stringify(owner).slice(0, -1)
    this.#defaults = defaults
    this.defaultKey = this.#build(defaults)
  }

  /**
   * The key of the token request `params` ask for.
   *
   * @throws {ConfigurationError} when a scope, resource, audience or extra parameter is invalid.
   */
  keyFor(params: TokenParams): TokenRequestKey {
    const { scope, resource, audience, extraParams } = params
    if (
      scope === undefined &&
      resource === undefined &&
      audience === undefined &&
      extraParams === undefined
    ) {
      return this.defaultKey
    }
    // Strings and arrays of strings without the separators render distinctly; others are not memoised.
    const fingerprint =
      extraParams === undefined && isSimple(scope) && isSimple(resource) && isSimple(audience)
        ? `${fingerprintOf(scope)}\u0000${fingerprintOf(resource)}\u0000${fingerprintOf(audience)}`
        : undefined
    if (fingerprint !== undefined) {
      const known = this.#recent.get(fingerprint)
      if (known !== undefined) return known
    }
    const defaults = this.#defaults
    const requestKey = this.#build({
      scopes: scope === undefined ? defaults.scopes : normalizeScopes(`${GETTOKEN}: scope`, scope),
      resources:
        resource === undefined ? defaults.resources : normalizeResources(`${GETTOKEN}: resource`, resource),
      audiences:
        audience === undefined ? defaults.audiences : normalizeAudiences(`${GETTOKEN}: audience`, audience),
      extraParams:
        extraParams === undefined
          ? defaults.extraParams
          : { ...defaults.extraParams, ...normalizeExtraParams(`${GETTOKEN}: extraParams`, extraParams) },
    })
    if (fingerprint !== undefined) this.#recent.set(fingerprint, requestKey)
    return requestKey
  }

  #build({ scopes, resources, audiences, extraParams }: TokenRequestDefaults): TokenRequestKey {
    const sortedScopes = [...new Set(scopes)].sort()
    const sortedResources = [...new Set(resources)].sort()
    const sortedAudiences = [...new Set(audiences)].sort()
    const sortedExtra = Object.entries(extraParams).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    // Without audiences the key keeps its earlier form, so tokens in a shared store survive an upgrade;
    // the two forms differ in length and cannot collide.
    const parts =
      sortedAudiences.length === 0
        ? [sortedScopes, sortedResources, sortedExtra]
        : [sortedScopes, sortedResources, sortedAudiences, sortedExtra]
    const cacheKey = `${this.#prefix},${JSON.stringify(parts)}]`
    return Object.freeze({
      cacheKey,
      scopes: Object.freeze(sortedScopes),
      resources: Object.freeze(sortedResources),
      audiences: Object.freeze(sortedAudiences),
      extraParams: Object.freeze(sortedExtra),
    })
  }
}

/** A value whose fingerprint cannot collide with another's: strings without the separators. */
function isSimple(value: unknown): boolean {
  if (value === undefined) return true
  if (typeof value === 'string') return !hasSeparator(value)
  return Array.isArray(value) && value.every((v) => typeof v === 'string' && !hasSeparator(v))
}

function hasSeparator(value: string): boolean {
  return value.includes('\u0000') || value.includes('\u0001')
}

function fingerprintOf(value: string | readonly string[] | undefined): string {
  if (value === undefined) return 'u'
  return typeof value === 'string' ? `s${value}` : `a${value.join('\u0001')}`
}
