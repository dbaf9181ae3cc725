/**
 * The HTTP answer to a request that may not pass: status, headers and a small JSON body, the same
 * for every framework adapter.
 *
 * @module middleware/challenge
 */
import { BearerError, type BearerErrorCode } from '@oauth-m2m/core'
import { isDpopNonce } from '@oauth-m2m/core/internal'
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

type Scheme = 'Bearer' | 'DPoP'

/** The schemes the verifier accepts, Bearer first. */
function acceptedSchemes(settings: BearerAuthSettings): Scheme[] {
  const mode = settings.dpop?.mode ?? 'disabled'
  return mode === 'allowed' ? ['Bearer', 'DPoP'] : mode === 'required' ? ['DPoP'] : ['Bearer']
}

const DPOP_ERRORS: ReadonlySet<unknown> = new Set<BearerErrorCode>(['invalid_dpop_proof', 'use_dpop_nonce'])

/**
 * The `WWW-Authenticate` value: a challenge for every scheme the verifier accepts (RFC 9449
 * §7.1: both when both are), the error on the one it concerns — the proof's errors on `DPoP`,
 * others on the scheme the request used — listed first.
 */
function wwwAuthenticate(
  error: BearerError | undefined,
  settings: BearerAuthSettings,
  used: Scheme | undefined,
): string {
  const schemes = acceptedSchemes(settings)
  let errorScheme: Scheme | undefined
  if (error !== undefined) {
    errorScheme = DPOP_ERRORS.has(error.error)
      ? 'DPoP'
      : used !== undefined && schemes.includes(used)
        ? used
        : schemes[0]!
  }
  const ordered =
    errorScheme === undefined ? schemes : [errorScheme, ...schemes.filter((s) => s !== errorScheme)]
  const base = realmOption(settings)
  const algs = settings.dpop?.algorithms ?? []
  return ordered
    .map((scheme) =>
      toWWWAuthenticate(scheme === errorScheme ? error : undefined, {
        ...base,
        ...(scheme === errorScheme && error !== undefined ? scopeOption(error) : {}),
        scheme,
        algs,
      }),
    )
    .join(', ')
}

/**
 * The answer for `error`, or for a request without credentials when `error` is undefined:
 *
 * - no credentials → 401, `WWW-Authenticate: Bearer realm="…"` with no error code (RFC 6750 §3.1);
 * - `invalid_request` → 400, `invalid_token` → 401, `insufficient_scope` → 403 with `scope="…"`,
 *   each with `WWW-Authenticate: Bearer realm="…", error="…", error_description="…"`;
 * - `invalid_dpop_proof` → 401 (400 for several `DPoP` headers) and `use_dpop_nonce` → 401 with
 *   the fresh nonce in `DPoP-Nonce`, their error on the `DPoP` challenge (RFC 9449 §7.1, §9);
 * - `temporarily_unavailable` → 503 with `Retry-After` and no challenge: RFC 6750 defines no such
 *   code, and the caller's token is not at fault. Its description is fixed, so the reason (which
 *   may name internal endpoints) stays in the server's own logs and diagnostics.
 *
 * The challenges follow the verifier's DPoP mode: `Bearer` alone (`disabled`, or a verifier that
 * does not say), `DPoP algs="…"` alone (`required`), or both (`allowed`, the default of
 * `createVerifier`), the error on the scheme it concerns (`used`, the request's scheme, for the
 * token's errors) and listed first.
 *
 * With `resourceMetadata` configured, every challenge ends in `resource_metadata="<URL>"` (RFC 9728
 * §5.1).
 *
 * Every answer carries `Cache-Control: no-store` and a JSON body `{ error, error_description }`
 * (only `error_description` when there is no error code). Nothing of the token is ever included.
 */
export function challengeFor(
  error: BearerError | undefined,
  settings: BearerAuthSettings,
  used?: Scheme,
): Challenge {
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    'Cache-Control': 'no-store',
  }
  if (error === undefined) {
    headers['WWW-Authenticate'] = wwwAuthenticate(undefined, settings, used)
    return new Challenge(
      401,
      headers,
      JSON.stringify({
        error_description:
          (settings.dpop?.mode ?? 'disabled') === 'disabled'
            ? 'a bearer access token is required'
            : 'an access token is required',
      }),
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
  headers['WWW-Authenticate'] = wwwAuthenticate(error, settings, used)
  // Read by shape, as everywhere here: the error may come from another copy of core.
  const nonce = (error as { nonce?: unknown }).nonce
  if (error.error === 'use_dpop_nonce' && typeof nonce === 'string' && isDpopNonce(nonce)) {
    headers['DPoP-Nonce'] = nonce
  }
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
  'invalid_dpop_proof',
  'use_dpop_nonce',
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
