/**
 * The options that say where the verification keys come from and which algorithms they may sign
 * with (`jwks`, `jwksUri`, `jwksCache`, `algorithms`): their defaults and their validation.
 *
 * @module key-options
 */
import type { JwksCacheOptions } from '@oauth-m2m/core'
import { parseJwksDocument } from '@oauth-m2m/core/internal'
import type { JWK } from 'jose'
import type { Dispatcher } from 'undici'
import { checkAlgorithmsOption, type JwsAlgorithm } from './algorithms.js'
import { invalid, url } from './option-checks.js'

/** The key options as given (members of `VerifierOptions`). */
export interface KeyOptions {
  jwksUri?: string | URL | undefined
  jwks?: { keys: readonly JWK[] } | undefined
  algorithms?: readonly JwsAlgorithm[] | undefined
  jwksCache?: Omit<JwksCacheOptions, 'dispatcher'> | undefined
}

/** What the JWKS cache shares with the rest of the verifier. */
export interface KeyOptionsContext {
  dispatcher: Dispatcher | undefined
  /** The verifier's clock, the JWKS cache's default one. */
  now: (() => number) | undefined
  /** Whether `jwksUri` may be http to a host other than loopback. */
  allowInsecureHttp: boolean
}

/** The key options, checked, with defaults filled in. */
export interface ResolvedKeyOptions {
  jwksUri: string | URL | undefined
  /** The keys of `jwks: { keys }`, validated and frozen. */
  staticKeys: readonly JWK[] | undefined
  algorithms: ReadonlySet<JwsAlgorithm> | undefined
  jwksCache: JwksCacheOptions
}

const JWKS_CACHE_MEMBERS = ['timeoutMs', 'maxAgeMs', 'cooldownMs', 'maxStaleMs', 'now']

/**
 * The keys of `jwks: { keys }`, each held to the rules of a fetched JWKS (core's
 * parseJwksDocument). A key that a fetched set would skip is refused here instead: in the options
 * it is a mistake to fix (a private key pasted by accident), not an entry to tolerate.
 */
function staticKeysOption(value: unknown): readonly JWK[] | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    invalid('jwks must be a static key set { keys: [...] }')
  }
  const members = Object.keys(value)
  if (!members.includes('keys') || members.some((m) => JWKS_CACHE_MEMBERS.includes(m))) {
    invalid(
      'jwks takes a static key set { keys: [...] }; the JWKS cache options (maxAgeMs, cooldownMs, maxStaleMs, timeoutMs, now) are now named jwksCache',
    )
  }
  const unknown = members.find((m) => m !== 'keys')
  if (unknown !== undefined) invalid(`jwks has an unknown member "${unknown}"`)
  const keys = (value as { keys: unknown }).keys
  if (!Array.isArray(keys) || keys.length === 0) invalid('jwks.keys must be a non-empty array of JWKs')
  keys.forEach((key, index) => {
    if (parseJwksDocument({ keys: [key] })?.length !== 1) {
      invalid(
        `jwks.keys[${index}] is not a public signing key (it needs a "kty", no private or symmetric key material, and "use" absent or "sig")`,
      )
    }
  })
  return parseJwksDocument({ keys })!
}

/** The algorithm allowlist, when given; `none` and HMAC are refused. */
export function resolveAlgorithms(
  value: readonly JwsAlgorithm[] | undefined,
): ReadonlySet<JwsAlgorithm> | undefined {
  if (value === undefined) return undefined
  try {
    return checkAlgorithmsOption(value)
  } catch (err) {
    invalid((err as Error).message)
  }
}

/** Where keys come from: a static set, a given JWKS URL (with its cache's options), or discovery. */
export function resolveKeySource(
  options: KeyOptions,
  context: KeyOptionsContext,
): Omit<ResolvedKeyOptions, 'algorithms'> {
  const staticKeys = staticKeysOption(options.jwks)
  if (staticKeys !== undefined && options.jwksUri !== undefined) {
    invalid('jwks (a static key set) and jwksUri are exclusive: give one')
  }
  if (staticKeys !== undefined && options.jwksCache !== undefined) {
    invalid('jwksCache configures fetched key sets; with a static jwks nothing is fetched')
  }
  const jwksCache = options.jwksCache ?? {}
  if (typeof jwksCache !== 'object' || jwksCache === null) invalid('jwksCache must be an object')
  for (const name of ['timeoutMs', 'maxAgeMs', 'cooldownMs', 'maxStaleMs'] as const) {
    const value = jwksCache[name]
    if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value) || value < 0)) {
      invalid(`jwksCache.${name} must be a non-negative number of milliseconds`)
    }
  }
  const { dispatcher, now, allowInsecureHttp } = context
  return {
    jwksUri: url(options.jwksUri, 'jwksUri', allowInsecureHttp),
    staticKeys,
    jwksCache: {
      ...jwksCache,
      ...(dispatcher ? { dispatcher } : {}),
      ...(jwksCache.now === undefined && now !== undefined ? { now } : {}),
    },
  }
}
