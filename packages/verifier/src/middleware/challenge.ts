/**
 * The HTTP answer to a request that may not pass: status, headers and a small JSON body, the same
 * for every framework adapter.
 *
 * @module middleware/challenge
 */
import { BearerError, type BearerErrorCode } from '@oauth-m2m/core'
import { toWWWAuthenticate } from '../www-authenticate.js'
import type { BearerAuthSettings } from './options.js'

/** A refusal to send instead of calling the route: built by the middleware, written by an adapter. */
export class Challenge {
  /** HTTP status: 400, 401, 403 or 503. */
  readonly status: number
  /** Response headers, canonically cased; always `Content-Type` and `Cache-Control: no-store`. */
  readonly headers: Readonly<Record<string, string>>
  /** The JSON body, already serialised. */
  readonly body: string

  constructor(status: number, headers: Record<string, string>, body: string) {
    this.status = status
    this.headers = Object.freeze(headers)
    this.body = body
  }
}

/**
 * The answer for `error`, or for a request without bearer credentials when `error` is undefined:
 *
 * - no credentials → 401, `WWW-Authenticate: Bearer realm="…"` with no error code (RFC 6750 §3.1);
 * - `invalid_request` → 400, `invalid_token` → 401, `insufficient_scope` → 403 with `scope="…"`,
 *   each with `WWW-Authenticate: Bearer realm="…", error="…", error_description="…"`;
 * - `temporarily_unavailable` → 503 with `Retry-After` and no challenge: RFC 6750 defines no such
 *   code, and the caller's token is not at fault. Its description is fixed, so the reason (which
 *   may name internal endpoints) stays in the server's own logs and diagnostics.
 *
 * With `resourceMetadata` configured, every challenge ends in `resource_metadata="<URL>"` (RFC 9728
 * §5.1).
 *
 * Every answer carries `Cache-Control: no-store` and a JSON body `{ error, error_description }`
 * (only `error_description` when there is no error code). Nothing of the token is ever included.
 */
export function challengeFor(error: BearerError | undefined, settings: BearerAuthSettings): Challenge {
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    'Cache-Control': 'no-store',
  }
  if (error === undefined) {
    headers['WWW-Authenticate'] = toWWWAuthenticate(undefined, realmOption(settings))
    return new Challenge(
      401,
      headers,
      JSON.stringify({ error_description: 'a bearer access token is required' }),
    )
  }
  if (error.error === 'temporarily_unavailable') {
    if (settings.retryAfterSec > 0) headers['Retry-After'] = String(settings.retryAfterSec)
    return new Challenge(
      503,
      headers,
      JSON.stringify({
        error: 'temporarily_unavailable',
        error_description: 'the access token cannot be checked right now; try again later',
      }),
    )
  }
  headers['WWW-Authenticate'] = toWWWAuthenticate(error, { ...realmOption(settings), ...scopeOption(error) })
  return new Challenge(
    error.status,
    headers,
    JSON.stringify({ error: error.error, error_description: error.message }),
  )
}

const BEARER_ERROR_CODES: ReadonlySet<unknown> = new Set<BearerErrorCode>([
  'invalid_request',
  'invalid_token',
  'insufficient_scope',
  'temporarily_unavailable',
])

/**
 * Whether `error` is a `BearerError`, also when it comes from another copy of `@oauth-m2m/core`
 * (two versions installed side by side), where `instanceof` alone would say no.
 */
export function isBearerError(error: unknown): error is BearerError {
  if (error instanceof BearerError) return true
  if (!(error instanceof Error)) return false
  const candidate = error as Error & { status?: unknown; error?: unknown }
  return typeof candidate.status === 'number' && BEARER_ERROR_CODES.has(candidate.error)
}

// Every challenge names the metadata document (RFC 9728 §5.1), also the one without an error code.
function realmOption(settings: BearerAuthSettings): { realm?: string; resourceMetadata?: string } {
  const metadata =
    settings.resourceMetadata === undefined ? {} : { resourceMetadata: settings.resourceMetadata.url }
  return settings.realm === undefined ? metadata : { realm: settings.realm, ...metadata }
}

// Read by shape rather than `instanceof InsufficientScopeError`, for the same reason as isBearerError.
function scopeOption(error: BearerError): { scope?: readonly string[] } {
  const required = (error as { requiredScopes?: unknown }).requiredScopes
  if (error.error !== 'insufficient_scope' || !Array.isArray(required)) return {}
  return { scope: required.filter((s): s is string => typeof s === 'string') }
}
