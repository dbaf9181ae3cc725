/**
 * The request log hook (`onRequest`): one plain-data entry per answered request, built from what
 * the request and its answer show, never from a credential. The CLI writes them with pino; a host
 * may send them anywhere. The same entry, with its endpoint, goes to the `oauth-m2m:server:request`
 * diagnostics channel when it has subscribers.
 *
 * @module request-log
 */
import { decodeBasicCredentials } from '@oauth-m2m/core/internal'
import { decodeProtectedHeader } from 'jose/decode/protected_header'
import { decodeJwt } from 'jose/jwt/decode'
import type { TokenEndpointAuthMethod } from './client-metadata.js'
import { requestChannel, type ServerEndpoint, type ServerRequestEvent } from './diagnostics.js'
import type { EndpointResponse } from './http-response.js'
import { type FormParams, single } from './request-form.js'

/**
 * One answered request, as the `onRequest` option receives it: plain data, safe to log as it is.
 * It never holds a secret, client assertion, token, DPoP proof, `Authorization` header, query
 * string or request body.
 */
export interface RequestLogEntry {
  /** The HTTP method, as sent. */
  method: string
  /**
   * The path of the request target, without the query (a caller may put anything there), at most
   * 256 characters (`MAX_LOGGED_PATH_LENGTH`): a longer one is cut and ends in `…`.
   */
  path: string
  /** The HTTP status of the answer. */
  status: number
  /** The OAuth `error` code of an error answer (`invalid_client`, `invalid_scope`…); absent on success. */
  error?: string
  /**
   * The client the request named: the user name of `Authorization: Basic`, the `client_id`
   * parameter, or the `iss` of a client assertion. Authenticated only when the answer is not a
   * 401 or 429 `invalid_client`: a failed attempt shows the id it claimed. Absent when the request
   * named none (metadata, JWKS) or the endpoint takes no form body. Cut to
   * 256 characters (`MAX_LOGGED_CLIENT_ID_LENGTH`) like `path`.
   */
  clientId?: string
  /**
   * How the request tried to authenticate its client, by what it carried: a Basic header
   * (`client_secret_basic`), `client_secret` (`client_secret_post`), an HMAC-signed assertion
   * (`client_secret_jwt`), another assertion (`private_key_jwt`), a `client_id` with a TLS client
   * certificate (`tls_client_auth`, or `self_signed_tls_client_auth` for a client registered so), or
   * a `client_id` alone (`none`). Absent when the request carried no client credentials.
   */
  authMethod?: TokenEndpointAuthMethod
  /**
   * Milliseconds from the request reaching the server (its headers read) to its answer being
   * handed to the connection, with microsecond resolution.
   */
  durationMs: number
}

/**
 * Receives one {@link RequestLogEntry} per answered request. Called after the answer is written;
 * what it throws goes to `onInternalError` and changes nothing for the request.
 */
export type RequestLogHook = (entry: RequestLogEntry) => void

/** The `onRequest` hook as the adapters call it, with where its own failures go. */
export interface RequestLog {
  hook: RequestLogHook
  onError: (error: unknown) => void
}

/** Longest {@link RequestLogEntry.path} logged as it is. */
export const MAX_LOGGED_PATH_LENGTH = 256
/** Longest {@link RequestLogEntry.clientId} logged as it is. */
export const MAX_LOGGED_CLIENT_ID_LENGTH = 256

/** Who a form request says it is: filled in by the form route once the body is parsed. */
export interface RequestClient {
  /** See {@link RequestLogEntry.clientId}. */
  clientId?: string | undefined
  /** See {@link RequestLogEntry.authMethod}. */
  authMethod?: TokenEndpointAuthMethod | undefined
}

function cut(value: string, max: number): string {
  return value.length <= max ? value : `${value.slice(0, max - 1)}…`
}

/** The `iss` and the HMAC-or-not of an assertion, read without verifying it; nothing when it is not a JWT. */
function assertionClaims(assertion: string | undefined): { iss?: string; hmac: boolean } {
  if (assertion === undefined) return { hmac: false }
  try {
    const { alg } = decodeProtectedHeader(assertion)
    const { iss } = decodeJwt(assertion)
    return {
      hmac: typeof alg === 'string' && alg.startsWith('HS'),
      ...(typeof iss === 'string' ? { iss } : {}),
    }
  } catch {
    return { hmac: false }
  }
}

/**
 * Fills `into` with the client a parsed form request names and the way it tries to authenticate,
 * read the way client authentication reads it, without checking anything.
 *
 * @param registeredMethod The method a client is registered with, when known at once: tells
 *   `self_signed_tls_client_auth` from `tls_client_auth`.
 */
export function describeRequestClient(
  into: RequestClient,
  authorization: string | undefined,
  params: FormParams,
  hasCertificate: boolean,
  registeredMethod: (clientId: string) => TokenEndpointAuthMethod | undefined,
): void {
  const bodyClientId = single(params, 'client_id')
  if (authorization !== undefined) {
    const basic = decodeBasicCredentials(authorization)
    into.clientId = basic.ok ? basic.clientId : bodyClientId
    into.authMethod = 'client_secret_basic'
  } else if (params.has('client_secret')) {
    into.clientId = bodyClientId
    into.authMethod = 'client_secret_post'
  } else if (params.has('client_assertion') || params.has('client_assertion_type')) {
    const claims = assertionClaims(single(params, 'client_assertion'))
    into.clientId = bodyClientId ?? claims.iss
    into.authMethod = claims.hmac ? 'client_secret_jwt' : 'private_key_jwt'
  } else if (bodyClientId !== undefined) {
    into.clientId = bodyClientId
    if (!hasCertificate) into.authMethod = 'none'
    else {
      into.authMethod =
        registeredMethod(bodyClientId) === 'self_signed_tls_client_auth'
          ? 'self_signed_tls_client_auth'
          : 'tls_client_auth'
    }
  }
}

/** The `error` member of an error answer's JSON body. */
function errorCode(response: EndpointResponse): string | undefined {
  if (response.status < 400) return undefined
  try {
    const error = (JSON.parse(response.body) as { error?: unknown }).error
    return typeof error === 'string' ? error : undefined
  } catch {
    return undefined
  }
}

/**
 * Whether a request arriving now is to be measured: when there is an `onRequest` hook, or the
 * diagnostics channel has a subscriber. Otherwise a request costs no clock read and no entry.
 */
export function observesRequests(log: RequestLog | undefined): boolean {
  return log !== undefined || requestChannel.hasSubscribers
}

/**
 * Publishes the entry of one answered request on `oauth-m2m:server:request` (when subscribed)
 * and hands it to the `onRequest` hook (when set); what the hook throws goes to its `onError`.
 *
 * @param url The request target: a path with an optional query (which is left out).
 * @param startedAtMs `performance.now()` when the request arrived.
 * @param endpointOf The endpoint the request was routed to; only asked when the channel is subscribed.
 */
export function logRequest(
  log: RequestLog | undefined,
  method: string,
  url: string,
  startedAtMs: number,
  response: EndpointResponse,
  client: RequestClient | undefined,
  endpointOf: () => ServerEndpoint | undefined,
): void {
  const durationMs = Math.round((performance.now() - startedAtMs) * 1000) / 1000
  const query = url.indexOf('?')
  const entry: RequestLogEntry = {
    method: cut(method, 32),
    path: cut(query === -1 ? url : url.slice(0, query), MAX_LOGGED_PATH_LENGTH),
    status: response.status,
    durationMs,
  }
  const error = errorCode(response)
  if (error !== undefined) entry.error = error
  if (client?.clientId !== undefined) entry.clientId = cut(client.clientId, MAX_LOGGED_CLIENT_ID_LENGTH)
  if (client?.authMethod !== undefined) entry.authMethod = client.authMethod
  if (requestChannel.hasSubscribers) {
    // A copy: the hook below may keep or change its entry.
    const event: ServerRequestEvent = { ...entry }
    const endpoint = endpointOf()
    if (endpoint !== undefined) event.endpoint = endpoint
    requestChannel.publish(event)
  }
  if (log === undefined) return
  try {
    log.hook(entry)
  } catch (hookError) {
    try {
      log.onError(hookError)
    } catch {
      // A failing error reporter must not turn a logged request into an unhandled exception.
    }
  }
}
