/**
 * The `node:diagnostics_channel` channel the server publishes on, named `oauth-m2m:server:<event>`
 * like every oauth-m2m channel. The payload is plain data: the {@link RequestLogEntry} the
 * `onRequest` hook gets, which never holds a secret, client assertion, token, DPoP proof, header
 * value, query string or body, plus the endpoint the request was routed to. Nothing is measured
 * and nothing is published while the channel has no subscriber (and no `onRequest` is set).
 *
 * Subscribe with `diagnostics_channel.subscribe(SERVER_REQUEST_CHANNEL, (event) => …)`.
 *
 * @module diagnostics
 */
import { channel } from 'node:diagnostics_channel'
import type { RequestLogEntry } from './request-log.js'

/** Published once per answered request (`listen()` and `handle()`), with a {@link ServerRequestEvent}. */
export const SERVER_REQUEST_CHANNEL = 'oauth-m2m:server:request'

/**
 * The endpoint a request was routed to, by what it does rather than by its path, so that an
 * endpoint moved with the `endpoints` option (or reached through an mTLS alias) keeps its name:
 * `health` is `/healthz`, `readiness` is `/readyz`, `registration` is the registration endpoint and
 * its RFC 7592 client configuration URLs.
 */
export type ServerEndpoint =
  | 'token'
  | 'introspection'
  | 'revocation'
  | 'jwks'
  | 'metadata'
  | 'registration'
  | 'health'
  | 'readiness'

/** Payload of {@link SERVER_REQUEST_CHANNEL}: the request log entry and the endpoint. */
export interface ServerRequestEvent extends RequestLogEntry {
  /** The endpoint the request was routed to; absent when its path is none of the server's (a 404). */
  endpoint?: ServerEndpoint
}

/** @internal */
export const requestChannel = channel(SERVER_REQUEST_CHANNEL)
