/**
 * The client's telemetry behind one small object, so that the token lifecycle reads without
 * publish blocks. Each method checks its channel's `hasSubscribers` before it builds a payload:
 * with no subscriber an event costs a call and a property read, no allocation, which keeps a
 * cached `getToken` as cheap as a map lookup. Errors are published as plain data
 * (`summarizeError`), never as the live object.
 *
 * @module client-events
 */

import { HttpError, OAuthResponseError } from '@oauth-m2m/core'
import { summarizeError } from '@oauth-m2m/core/internal'
import { channels, type FetchErrorMessage } from './diagnostics.js'
import type { StoreOperation } from './token-cache.js'
import type { TokenSchedule } from './token-lifecycle.js'
import type { TokenRequestKey } from './token-request-key.js'
import type { TokenSet } from './token-set.js'

/** What a token request is, besides its key, for `fetchStart` (once per request, not per hit). */
export interface FetchStartDetails {
  /** The client's `client_id`. */
  clientId: string
  /** The token endpoint, or the issuer while it is still to be discovered. */
  server: string
  /** `true` when no caller waits for the answer (the refresh of a stale token). */
  background: boolean
}

/** Publishes the client's events on its diagnostics channels. */
export const clientEvents = {
  /** A fresh token was served from memory. */
  cacheHit(key: string, expiresAt: number): void {
    if (channels.cacheHit.hasSubscribers) channels.cacheHit.publish({ key, expiresAt })
  },
  /** A stale token was served while a refresh runs. */
  cacheStale(key: string, expiresAt: number): void {
    if (channels.cacheStale.hasSubscribers) channels.cacheStale.publish({ key, expiresAt })
  },
  /** No usable token: the caller waits. */
  cacheMiss(key: string): void {
    if (channels.cacheMiss.hasSubscribers) channels.cacheMiss.publish({ key })
  },
  /** A token was cached with this schedule. */
  refreshScheduled(key: string, schedule: TokenSchedule): void {
    if (channels.refreshScheduled.hasSubscribers) {
      channels.refreshScheduled.publish({ key, refreshAt: schedule.refreshAt, expiredAt: schedule.expiredAt })
    }
  },
  /** A background refresh failed; the next one is not tried before `retryAt`. */
  refreshFailed(key: string, error: Error, retryAt: number): void {
    if (channels.refreshFailed.hasSubscribers)
      channels.refreshFailed.publish({ key, error: summarizeError(error), retryAt })
  },
  /** The shared store failed and was bypassed. */
  storeError(key: string, operation: StoreOperation, error: unknown): void {
    if (channels.storeError.hasSubscribers)
      channels.storeError.publish({ key, operation, error: summarizeError(error) })
  },
  /** The server asked for a pause: the key is held back until `until`. */
  backoff(key: string, until: number, status: number): void {
    if (channels.backoff.hasSubscribers) channels.backoff.publish({ key, until, status })
  },
  /** A token request starts. */
  fetchStart(requestKey: TokenRequestKey, { clientId, server, background }: FetchStartDetails): void {
    if (channels.fetchStart.hasSubscribers) {
      const { cacheKey: key, scopes, resources, audiences } = requestKey
      channels.fetchStart.publish({ key, clientId, server, scopes, resources, audiences, background })
    }
  },
  /** An attempt failed and the next one follows after `delayMs`. */
  fetchRetry(key: string, attempt: number, delayMs: number, error: Error): void {
    if (channels.fetchRetry.hasSubscribers)
      channels.fetchRetry.publish({ key, attempt, delayMs, error: summarizeError(error) })
  },
  /** A token request succeeded. */
  fetchEnd(key: string, attempts: number, durationMs: number, token: TokenSet): void {
    if (channels.fetchEnd.hasSubscribers) {
      channels.fetchEnd.publish({ key, attempts, durationMs, expiresAt: token.expiresAt, scope: token.scope })
    }
  },
  /** A token request failed for good. */
  fetchError(key: string, attempts: number, durationMs: number, error: unknown): void {
    if (channels.fetchError.hasSubscribers) {
      const message: FetchErrorMessage = { key, attempts, durationMs, error: summarizeError(error) }
      // Only these two carry what the server answered; their `error` went through the redactor.
      if (error instanceof OAuthResponseError) {
        message.oauthError = error.error
        message.status = error.status
      } else if (error instanceof HttpError && error.status !== undefined) {
        message.status = error.status
      }
      channels.fetchError.publish(message)
    }
  },
}
