/**
 * The transport-neutral answer of the server core, and the RFC 6749 §5.2 error object.
 *
 * @module http-response
 */
import { toErrorDescription } from '@oauth-m2m/core/internal'

/** What an endpoint answers, before an adapter writes it to node:http or a web `Response`. */
export interface EndpointResponse {
  /** HTTP status code. */
  status: number
  /** Response headers, lower-case names. */
  headers: Record<string, string>
  /** The body, already serialized (JSON for every endpoint). */
  body: string
}

/**
 * RFC 6749 §5.2, RFC 8707 and RFC 9449 (§5, §8) error codes this server answers with, plus
 * `server_error` and `temporarily_unavailable` (RFC 6749 §4.1.2.1, with 500 and 503) and its own
 * `not_found`.
 */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'invalid_target'
  | 'invalid_dpop_proof'
  | 'use_dpop_nonce'
  | 'server_error'
  | 'temporarily_unavailable'
  | 'not_found'

const JSON_NO_STORE: Readonly<Record<string, string>> = {
  'content-type': 'application/json',
  'cache-control': 'no-store',
  pragma: 'no-cache',
}

/** A JSON answer that no cache may keep (tokens, introspection results, errors). */
export function noStoreJson(
  status: number,
  body: string,
  extraHeaders?: Record<string, string>,
): EndpointResponse {
  return {
    status,
    headers: extraHeaders ? { ...JSON_NO_STORE, ...extraHeaders } : { ...JSON_NO_STORE },
    body,
  }
}

/** A cacheable public JSON document (metadata, JWKS). */
export function publicJson(body: string, maxAgeSec: number): EndpointResponse {
  return {
    status: 200,
    headers: { 'content-type': 'application/json', 'cache-control': `public, max-age=${maxAgeSec}` },
    body,
  }
}

/** An RFC 6749 §5.2 error answer: `{error, error_description}`, never stored by caches. */
export function oauthError(
  status: number,
  error: OAuthErrorCode,
  description: string,
  extraHeaders?: Record<string, string>,
): EndpointResponse {
  // Descriptions are this package's own text, never copied from a request: reducing them to the
  // RFC 6749 §5.2 character set only guards against a future slip.
  const body = JSON.stringify({ error, error_description: toErrorDescription(description) })
  return noStoreJson(status, body, extraHeaders)
}

/** 413 for a body over the limit; the connection is closed, as the rest of the body is not read. */
export function payloadTooLarge(maxBodyBytes: number): EndpointResponse {
  return oauthError(413, 'invalid_request', `the request body exceeds ${maxBodyBytes} bytes`, {
    connection: 'close',
  })
}

/**
 * 503 `temporarily_unavailable` with `Retry-After`: the server cannot take the request now without
 * weakening replay protection (its replay store is full of live entries until `untilMs`).
 */
export function temporarilyUnavailable(
  description: string,
  untilMs: number,
  nowMs: number,
): EndpointResponse {
  const retryAfterSec = Math.max(1, Math.ceil((untilMs - nowMs) / 1000))
  return oauthError(503, 'temporarily_unavailable', description, { 'retry-after': String(retryAfterSec) })
}
