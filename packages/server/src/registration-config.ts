/**
 * The `registration` option (dynamic client registration, RFC 7591/7592): its type, and its
 * checked form with the defaults filled in and the initial access tokens reduced to digests.
 *
 * @module registration-config
 */
import { isB64Token, parseScopeParameter } from '@oauth-m2m/core/internal'
import type { ClientMetadata } from './client-metadata.js'
import { fail, isObject, nonNegativeInt, stringArray } from './field-validation.js'
import { tokenDigest } from './registration-tokens.js'

/**
 * Dynamic client registration: `POST /register` (RFC 7591) and the management of each registration
 * at its `registration_client_uri` (RFC 7592). Off unless this option is given, and then either
 * `initialAccessTokens` or `open: true` is required, so that an open endpoint is always a choice.
 */
export interface RegistrationConfig {
  /**
   * The initial access tokens (RFC 7591 §3) that may register a client, each sent as
   * `Authorization: Bearer <token>`; at least 32 characters each, in the RFC 6750 `b64token` syntax
   * (e.g. `openssl rand -base64 32`).
   * Kept only as SHA-256 digests once the server has started, compared in constant time. Default
   * none.
   */
  initialAccessTokens?: string[]
  /**
   * `true`: anyone who reaches the endpoint may register a client, without an initial access
   * token. Not together with `initialAccessTokens`. Default `false`.
   */
  open?: boolean
  /**
   * The scopes a registered client may have in its `scope`. Default: every scope of the clients in
   * `clients`. They are advertised in `scopes_supported`.
   */
  scopes?: string[]
  /**
   * Lifetime of a registered client's secret, in seconds, told to the client as
   * `client_secret_expires_at`; it gets a new one by updating its registration with
   * `rotate_client_secret: true`. 0 for secrets that do not expire. Default 0.
   */
  secretLifetimeSec?: number
  /**
   * How long a registered client's previous secret stays valid after it asked for a new one, in
   * seconds, so that the instances of the client can move to the new secret without downtime; 0
   * ends it at once. Never beyond the previous secret's own expiry. Default 3600.
   */
  secretGraceSec?: number
}

/** The `registration` option checked, with every default filled in. */
export interface RegistrationSettings {
  /** SHA-256 digests (base64url) of the initial access tokens; `undefined` when registration is open. */
  readonly initialAccessTokenDigests: readonly string[] | undefined
  /** The scopes a registered client may have. */
  readonly scopes: ReadonlySet<string>
  /** Lifetime of an issued secret, in seconds; 0 for none. */
  readonly secretLifetimeSec: number
  /** How long a replaced secret stays valid, in seconds. */
  readonly secretGraceSec: number
}

const KEYS: ReadonlySet<string> = new Set<keyof RegistrationConfig>([
  'initialAccessTokens',
  'open',
  'scopes',
  'secretLifetimeSec',
  'secretGraceSec',
])

/** Shortest accepted initial access token: there is no rate limit on guessing one. */
export const MIN_INITIAL_ACCESS_TOKEN_LENGTH = 32

function initialAccessTokens(value: unknown): string[] {
  const tokens = stringArray(value, 'registration.initialAccessTokens')
  if (tokens.length === 0) fail('registration.initialAccessTokens', 'must hold at least one token')
  tokens.forEach((token, i) => {
    // Never quoted back: the message says what is wrong, not what was given.
    // A token that is no b64token could never arrive in an Authorization: Bearer header.
    if (token.length < MIN_INITIAL_ACCESS_TOKEN_LENGTH || !isB64Token(token)) {
      fail(
        `registration.initialAccessTokens[${i}]`,
        `must be at least ${MIN_INITIAL_ACCESS_TOKEN_LENGTH} characters of the RFC 6750 b64token syntax (letters, digits, - . _ ~ + / and trailing =)`,
      )
    }
  })
  return tokens
}

function registrationScopes(value: unknown, clients: readonly ClientMetadata[]): ReadonlySet<string> {
  if (value === undefined) {
    return new Set(clients.flatMap((client) => (client.scope ?? '').split(' ').filter(Boolean)))
  }
  const scopes = stringArray(value, 'registration.scopes')
  scopes.forEach((scope, i) => {
    if (parseScopeParameter(scope)?.length !== 1) fail(`registration.scopes[${i}]`, 'must be one scope token')
  })
  return new Set(scopes)
}

/**
 * Checks the `registration` option and fills in the defaults; `undefined` when registration is off.
 *
 * @param clients The configured clients, whose scopes are the default `scopes`.
 */
export function resolveRegistration(
  value: unknown,
  clients: readonly ClientMetadata[],
): RegistrationSettings | undefined {
  if (value === undefined) return undefined
  if (!isObject(value)) fail('registration', 'must be an object')
  for (const key of Object.keys(value)) {
    if (!KEYS.has(key)) fail(`registration.${key}`, 'is not a known option')
  }
  if (value.open !== undefined && typeof value.open !== 'boolean')
    fail('registration.open', 'must be a boolean')
  const open = value.open === true
  if (open && value.initialAccessTokens !== undefined) {
    fail('registration', 'takes initialAccessTokens or open: true, not both')
  }
  if (!open && value.initialAccessTokens === undefined) {
    fail('registration', 'needs initialAccessTokens, or open: true for registration without a token')
  }
  return {
    initialAccessTokenDigests: open
      ? undefined
      : initialAccessTokens(value.initialAccessTokens).map(tokenDigest),
    scopes: registrationScopes(value.scopes, clients),
    secretLifetimeSec: nonNegativeInt(value.secretLifetimeSec, 'registration.secretLifetimeSec', 0),
    secretGraceSec: nonNegativeInt(value.secretGraceSec, 'registration.secretGraceSec', 3600),
  }
}
