/**
 * One client_credentials token request (RFC 6749 §4.4): builds the form, lets the client
 * authentication strategy add its credentials (and, for a DPoP client, adds a fresh proof, RFC
 * 9449 §5), sends it over undici with a time limit, and validates the answer into a
 * {@link TokenSet}. A `400 use_dpop_nonce` answer with a `DPoP-Nonce` is sent once more with that
 * nonce (§8) within the same time limit; any other retrying is not its job.
 *
 * @module token-request
 */
import { performance } from 'node:perf_hooks'
import { type ClientAuthStrategy, HttpError } from '@oauth-m2m/core'
import {
  type AuthenticatedFormAnswer,
  errorFromAnswer,
  NO_REDACTION,
  postAuthenticatedForm,
  type Redactor,
} from '@oauth-m2m/core/internal'
import { decodeJwt } from 'jose/jwt/decode'
import type { Dispatcher } from 'undici'
import type { DpopProver } from './dpop/dpop-prover.js'
import { DpopNotBoundError } from './errors.js'
import type { TokenRequestKey } from './token-request-key.js'
import type { TokenSet } from './token-set.js'

/** Where and as whom a token request is sent. */
export interface TokenEndpointTarget {
  tokenEndpoint: string
  issuer: string | undefined
  clientId: string
  auth: ClientAuthStrategy
  dispatcher: Dispatcher | undefined
  /** The client's DPoP state, when it asks for DPoP-bound tokens. */
  dpop: DpopProver | undefined
}

/** Default of {@link TokenRequestOptions.maxResponseBytes} (the client's `maxResponseBytes`): 256 KiB. */
export const DEFAULT_MAX_RESPONSE_BYTES = 256 * 1024

/** Limits and clock of one attempt. */
export interface TokenRequestOptions {
  /** Time limit of the exchange, in ms. */
  timeoutMs: number
  /** Largest accepted body, in bytes. */
  maxResponseBytes: number
  /** Lifetime assumed when neither `expires_in` nor a JWT `exp` says it, in ms. */
  defaultExpiresInMs: number
  /** Clock, epoch ms. */
  now: () => number
  signal?: AbortSignal | undefined
}

const PURPOSE = 'token endpoint'

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function invalid(what: string): HttpError {
  return new HttpError(`${PURPOSE} answered 200 with ${what}`, { status: 200 })
}

/**
 * `expires_in` as sent, or as a number when it is a string of decimal digits: Entra ID's v1
 * endpoint, its managed-identity endpoint and several older servers send `"3599"`. Nothing
 * looser (signs, spaces, decimals, exponents, hex) is read as a number.
 */
function expiresInOf(value: unknown): unknown {
  return typeof value === 'string' && /^[0-9]+$/.test(value) ? Number(value) : value
}

/** The token's lifetime end, epoch ms, from `expires_in`, else the JWT `exp`, else the default. */
function expiryOf(
  body: Record<string, unknown>,
  accessToken: string,
  issuedAt: number,
  defaultExpiresInMs: number,
): number {
  const expiresIn = expiresInOf(body.expires_in)
  if (expiresIn !== undefined) {
    if (typeof expiresIn !== 'number' || !Number.isFinite(expiresIn) || expiresIn <= 0) {
      throw invalid('an expires_in that is not a positive number')
    }
    const expiresAt = issuedAt + expiresIn * 1000
    if (!Number.isSafeInteger(Math.round(expiresAt))) throw invalid('an expires_in that is out of range')
    return expiresAt
  }
  let exp: unknown
  try {
    exp = decodeJwt(accessToken).exp
  } catch {
    // Not a JWT: an opaque token without expires_in gets the documented default lifetime.
    return issuedAt + defaultExpiresInMs
  }
  if (exp === undefined) return issuedAt + defaultExpiresInMs
  if (typeof exp !== 'number' || !Number.isFinite(exp))
    throw invalid('a JWT access token whose exp is not a number')
  if (exp * 1000 <= issuedAt) throw invalid('a JWT access token that has already expired')
  return exp * 1000
}

/** Which `token_type`s a client takes (RFC 9449 §5: a DPoP client expects `DPoP`). */
export interface AcceptedTokenTypes {
  /** The client asked for a DPoP-bound token. */
  dpop: boolean
  /** A DPoP client also takes a Bearer token (`dpop.allowBearerFallback`). */
  bearerFallback: boolean
}

/** A client without DPoP: Bearer tokens only. */
export const BEARER_ONLY: AcceptedTokenTypes = Object.freeze({ dpop: false, bearerFallback: false })

/** The token type of an answer, checked against what the client takes. */
function tokenTypeOf(value: unknown, accepted: AcceptedTokenTypes): TokenSet['tokenType'] {
  // Token types are case-insensitive (RFC 6749 §5.1 and §7.1).
  const type = typeof value === 'string' ? value.toLowerCase() : undefined
  if (accepted.dpop) {
    if (type === 'dpop') return 'DPoP'
    if (type === 'bearer') {
      if (accepted.bearerFallback) return 'Bearer'
      throw new DpopNotBoundError()
    }
    throw invalid('a token_type other than DPoP or Bearer')
  }
  if (type !== 'bearer') throw invalid('a token_type other than Bearer')
  return 'Bearer'
}

/**
 * Validates a 200 answer (RFC 6749 §5.1): a JSON object, `access_token` a non-empty string,
 * `token_type` Bearer (any case) — or, for a DPoP client, DPoP (Bearer only with the fallback) —,
 * `expires_in` a positive number (or a string of decimal digits) when present, `scope` a string
 * when present.
 *
 * @throws {DpopNotBoundError} a DPoP client got a Bearer token and takes none.
 */
export function parseTokenResponse(
  body: unknown,
  issuedAt: number,
  requestedScopes: readonly string[],
  defaultExpiresInMs: number,
  redactor: Redactor = NO_REDACTION,
  accepted: AcceptedTokenTypes = BEARER_ONLY,
): TokenSet {
  if (!isObject(body)) throw invalid('a JSON value that is not an object')
  const accessToken = body.access_token
  if (typeof accessToken !== 'string' || accessToken === '') {
    if (typeof body.error === 'string') {
      throw errorFromAnswer({ status: 200, body, retryAfterMs: undefined }, redactor, PURPOSE)
    }
    throw invalid('no access_token string')
  }
  const tokenType = tokenTypeOf(body.token_type, accepted)
  if (body.scope !== undefined && typeof body.scope !== 'string')
    throw invalid('a scope that is not a string')
  const expiresAt = expiryOf(body, accessToken, issuedAt, defaultExpiresInMs)
  const scope = typeof body.scope === 'string' ? body.scope : requestedScopes.join(' ') || undefined
  return { accessToken, tokenType, issuedAt, expiresAt, scope, response: body }
}

/** Builds the form body of a client_credentials request for `requestKey`, before client authentication. */
export function tokenRequestForm(requestKey: TokenRequestKey): URLSearchParams {
  const form = new URLSearchParams()
  for (const [name, value] of requestKey.extraParams) form.set(name, value)
  form.set('grant_type', 'client_credentials')
  if (requestKey.scopes.length > 0) form.set('scope', requestKey.scopes.join(' '))
  for (const resource of requestKey.resources) form.append('resource', resource)
  for (const audience of requestKey.audiences) form.append('audience', audience)
  return form
}

/**
 * The client's authentication strategy plus a DPoP proof: the proof is made when the request is,
 * so it is fresh for every attempt, and as a header the strategy did not have before, the redactor
 * scrubs it from any text the answer echoes.
 */
function withDpopProof(auth: ClientAuthStrategy, dpop: DpopProver, tokenEndpoint: URL): ClientAuthStrategy {
  return {
    method: auth.method,
    // A mutual-TLS strategy's certificate still goes with the request (a token bound twice over).
    ...(auth.tls !== undefined ? { tls: auth.tls } : {}),
    async apply(request, context) {
      const applied = await auth.apply(request, context)
      request.headers.dpop = dpop.proofFor('token endpoint', 'POST', tokenEndpoint)
      return applied
    },
  }
}

/** Whether an answer asks for a DPoP nonce (RFC 9449 §8): `400` with `error` `use_dpop_nonce`. */
function asksForNonce(answer: AuthenticatedFormAnswer): boolean {
  const body = answer.body as { error?: unknown } | null
  return answer.status === 400 && typeof body === 'object' && body !== null && body.error === 'use_dpop_nonce'
}

/**
 * Sends one token request and returns the validated token.
 *
 * @throws {OAuthResponseError} when the server answered with an RFC 6749 §5.2 error.
 * @throws {HttpError} for any other unexpected answer (status, content type, size, JSON shape).
 * @throws {DpopNotBoundError} a DPoP client got a Bearer token and takes none.
 * @throws {NetworkError} / {TimeoutError} from the exchange, or the signal's reason.
 */
export async function requestToken(
  target: TokenEndpointTarget,
  requestKey: TokenRequestKey,
  options: TokenRequestOptions,
): Promise<TokenSet> {
  // Taken before sending: the server's clock starts expires_in no earlier than this.
  const issuedAt = options.now()
  const { dpop } = target
  const endpoint = new URL(target.tokenEndpoint)
  const auth = dpop ? withDpopProof(target.auth, dpop, endpoint) : target.auth
  const deadline = performance.now() + options.timeoutMs
  // The form is built anew for each exchange: client authentication adds to it.
  const send = () =>
    postAuthenticatedForm(target.tokenEndpoint, tokenRequestForm(requestKey), {
      auth,
      context: {
        clientId: target.clientId,
        endpoint: target.tokenEndpoint,
        tokenEndpoint: target.tokenEndpoint,
        issuer: target.issuer,
        now: options.now,
      },
      // A second exchange (the nonce retry) has what the first left of the attempt's time.
      timeoutMs: Math.max(1, deadline - performance.now()),
      maxBodyBytes: options.maxResponseBytes,
      purpose: PURPOSE,
      now: options.now,
      ...(target.dispatcher ? { dispatcher: target.dispatcher } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    })
  let answer = await send()
  if (dpop !== undefined) {
    const nonce = dpop.noteNonce('token endpoint', endpoint.origin, answer.headers['dpop-nonce'])
    if (nonce !== undefined && asksForNonce(answer)) {
      answer = await send()
      dpop.noteNonce('token endpoint', endpoint.origin, answer.headers['dpop-nonce'])
    }
  }
  if (answer.status !== 200) throw errorFromAnswer(answer, answer.redactor, PURPOSE)
  return parseTokenResponse(
    answer.body,
    issuedAt,
    requestKey.scopes,
    options.defaultExpiresInMs,
    answer.redactor,
    dpop === undefined ? BEARER_ONLY : { dpop: true, bearerFallback: dpop.allowBearerFallback },
  )
}
