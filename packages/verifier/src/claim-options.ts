/**
 * The options that say which tokens are acceptable by their claims (`audience`, `clientIds`,
 * `requiredClaims`, `claims`, `check`): their defaults and their validation.
 *
 * @module claim-options
 */
import type { ApplicationCheck } from './application-check.js'
import { invalid, nonEmptyStrings } from './option-checks.js'

/** Claim names of `VerifierOptions.claims`. */
export interface ClaimNames {
  /**
   * Claims the client id is read from, in order: the first one the token has wins (later ones are
   * not looked at). It must be a non-empty string, else the token is refused, never skipped; a
   * token with none of them is refused. Default `['client_id']` (RFC 9068 §2.2).
   */
  clientId?: readonly string[]
  /**
   * Claims whose values are granted scopes (`principal.scopes`), all merged in order, duplicates
   * across claims removed. Each is a space-separated string or an array of strings, except
   * `scope` itself, which RFC 8693 §4.2 defines as a string and must be one. A present claim of
   * another type refuses the token. Default `['scope']`.
   */
  scopes?: readonly string[]
}

/** Default of {@link ClaimNames.clientId}. */
export const DEFAULT_CLIENT_ID_CLAIMS: readonly string[] = Object.freeze(['client_id'])
/** Default of {@link ClaimNames.scopes}. */
export const DEFAULT_SCOPE_CLAIMS: readonly string[] = Object.freeze(['scope'])

/** The claim options as given (members of `VerifierOptions`). */
export interface ClaimOptions {
  audience: string | readonly string[] | null
  clientIds?: readonly string[] | undefined
  requiredClaims?: readonly string[] | undefined
  claims?: ClaimNames | undefined
  check?: ApplicationCheck | undefined
}

/** The claim options, checked, with defaults filled in. */
export interface ResolvedClaimOptions {
  /** `null`: the `aud` check is skipped (then `clientIds` is set). */
  audiences: readonly string[] | null
  clientIds: ReadonlySet<string> | undefined
  requiredClaims: readonly string[]
  clientIdClaims: readonly string[]
  scopeClaims: readonly string[]
  check: ApplicationCheck | undefined
}

function audienceOption(value: unknown): string[] | null {
  if (value === null) return null
  if (value === undefined) {
    invalid(
      'audience is required (or null together with clientIds): a verifier must never accept tokens minted for someone else',
    )
  }
  return nonEmptyStrings(value, 'audience')
}

function clientIdsOption(value: unknown): ReadonlySet<string> {
  if (!Array.isArray(value) || value.length === 0)
    invalid('clientIds must be a non-empty array of client ids')
  for (const item of value) {
    if (typeof item !== 'string' || item === '') invalid('clientIds must hold non-empty strings only')
  }
  return new Set(value as string[])
}

function claimNames(value: unknown, name: string): readonly string[] {
  if (!Array.isArray(value) || value.length === 0) invalid(`${name} must be a non-empty array of claim names`)
  for (const item of value) {
    if (typeof item !== 'string' || item === '') invalid(`${name} must hold non-empty claim names only`)
  }
  return Object.freeze([...(value as string[])])
}

/** The audience and client allowlist: who a token must be for and from. */
export function resolveAudienceOptions(
  options: ClaimOptions,
): Pick<ResolvedClaimOptions, 'audiences' | 'clientIds'> {
  const audiences = audienceOption(options.audience)
  const clientIds = options.clientIds === undefined ? undefined : clientIdsOption(options.clientIds)
  if (audiences === null && clientIds === undefined) {
    invalid(
      'audience null (no aud check) needs clientIds, the clients allowed to call: a verifier must never accept tokens minted for someone else',
    )
  }
  return { audiences, clientIds }
}

/** Where identity is read from and which claims must be present, and the application's check. */
export function resolveClaimRules(
  options: ClaimOptions,
): Omit<ResolvedClaimOptions, 'audiences' | 'clientIds'> {
  const requiredClaims = options.requiredClaims ?? []
  if (!Array.isArray(requiredClaims) || requiredClaims.some((c) => typeof c !== 'string' || c === '')) {
    invalid('requiredClaims must be an array of claim names')
  }
  const claims = options.claims ?? {}
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) {
    invalid('claims must be an object { clientId?, scopes? }')
  }
  const clientIdClaims =
    claims.clientId === undefined ? DEFAULT_CLIENT_ID_CLAIMS : claimNames(claims.clientId, 'claims.clientId')
  const scopeClaims =
    claims.scopes === undefined ? DEFAULT_SCOPE_CLAIMS : claimNames(claims.scopes, 'claims.scopes')
  const check = options.check
  if (check !== undefined && typeof check !== 'function') invalid('check must be a function')
  return { requiredClaims: [...requiredClaims], clientIdClaims, scopeClaims, check }
}
