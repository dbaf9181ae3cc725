/**
 * Retrying a token request (target discovery included) with p-retry (loaded with the first request): exponential backoff with
 * full jitter on network errors, timeouts, 408, 429 and 5xx; `Retry-After` honoured up to `maxRetryAfterSec`; all of it within a
 * total deadline and cancelled by an `AbortSignal`. OAuth errors such as `invalid_client` or
 * `invalid_scope` and every other 4xx answer are final.
 *
 * @module retry
 */
import { DiscoveryError, HttpError, NetworkError, OAuthResponseError, TimeoutError } from '@oauth-m2m/core'
import { loadPRetry } from './p-retry-loader.js'

/** How failed token requests are retried: the `retry` option of `createTokenClient`. */
export interface RetryOptions {
  /** Retries after the first attempt. Default 3. */
  retries?: number
  /** Backoff before the first retry, before jitter, in ms; it doubles per retry. Default 250. */
  minDelayMs?: number
  /** Largest backoff between two attempts, before jitter, in ms. Default 5 000. */
  maxDelayMs?: number
  /** Total time for all attempts and waits of one token request, in ms. Default 30 000. */
  deadlineMs?: number
}

/** The retry policy with every default applied. */
export interface RetryPolicy {
  /** Retries after the first attempt. */
  retries: number
  /** Backoff ceiling before the first retry, in ms. */
  minDelayMs: number
  /** Largest backoff ceiling, in ms. */
  maxDelayMs: number
  /** The longest `Retry-After` honoured, from `maxRetryAfterSec`, whether retrying is on or not. */
  maxRetryAfterMs: number
  /** Total time for all attempts and waits, in ms. */
  deadlineMs: number
}

/** The documented defaults of {@link RetryOptions} and `maxRetryAfterSec`. */
export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({
  retries: 3,
  minDelayMs: 250,
  maxDelayMs: 5000,
  maxRetryAfterMs: 300_000,
  deadlineMs: 30_000,
})

/**
 * Whether another attempt may succeed where `error` failed. A failed discovery is retryable when
 * what made it fail is (a reset connection, a timeout, a 5xx), not when the metadata is wrong.
 */
export function isRetryable(error: unknown): boolean {
  if (error instanceof NetworkError || error instanceof TimeoutError) return true
  if (error instanceof DiscoveryError) return error.cause !== undefined && isRetryable(error.cause)
  if (error instanceof HttpError || error instanceof OAuthResponseError) {
    const status = error.status
    return status !== undefined && (status >= 500 || status === 429 || status === 408)
  }
  return false
}

/** Called before each retry. */
export type OnRetry = (info: { attempt: number; delayMs: number; error: Error }) => void

/**
 * The part of the server's `Retry-After` on `error` that is honoured, in ms: at most
 * `maxRetryAfterMs`, so that one mistaken (or hostile) answer cannot silence the client for
 * days. `undefined` when the answer carried none, or when `maxRetryAfterMs` is 0 (`Retry-After`
 * ignored: the client's own backoff applies).
 */
export function honouredRetryAfterMs(error: unknown, maxRetryAfterMs: number): number | undefined {
  if (maxRetryAfterMs <= 0) return undefined
  const retryAfterMs = (error as { retryAfterMs?: unknown } | null)?.retryAfterMs
  if (typeof retryAfterMs !== 'number' || !(retryAfterMs >= 0)) return undefined
  return Math.min(retryAfterMs, maxRetryAfterMs)
}

/**
 * Full-jitter backoff (a uniform draw below the exponential ceiling) for the retry after
 * `attempt`, or the server's `Retry-After` (capped, see {@link honouredRetryAfterMs}) when it gave one.
 */
export function retryDelayMs(
  error: unknown,
  attempt: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
): number {
  const retryAfterMs = honouredRetryAfterMs(error, policy.maxRetryAfterMs)
  if (retryAfterMs !== undefined) return retryAfterMs
  const ceiling = Math.min(policy.maxDelayMs, policy.minDelayMs * 2 ** (attempt - 1))
  return random() * ceiling
}

/**
 * Waits `ms` on an unref'ed timer, rejecting with the signal's reason when it aborts. Unref'ed so
 * that a background refresh never holds the process open; a caller awaiting the token holds it
 * itself (see process-hold).
 */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason)
      return
    }
    const onAbort = () => {
      clearTimeout(timer)
      reject(signal?.reason)
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    timer.unref()
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/**
 * Runs `attempt` until it succeeds, fails with an error that is not retryable, the retries are
 * used up, or the deadline passes. `attempt` receives its number (from 1) and the time left
 * before the deadline in ms, to bound its own timeout. The last error is thrown as is.
 */
export async function withRetry<T>(
  attempt: (attemptNumber: number, remainingMs: number) => Promise<T>,
  policy: RetryPolicy,
  options: { signal?: AbortSignal | undefined; onRetry?: OnRetry | undefined } = {},
): Promise<T> {
  const deadline = performance.now() + policy.deadlineMs
  const { default: pRetry, AbortError } = await loadPRetry()
  const remaining = () => deadline - performance.now()
  return pRetry(
    async (n) => {
      try {
        return await attempt(n, Math.max(1, Math.floor(remaining())))
      } catch (error) {
        // p-retry rethrows AbortError's originalError without further attempts.
        if (!isRetryable(error))
          throw new AbortError(error instanceof Error ? error : new Error(String(error)))
        throw error
      }
    },
    {
      retries: policy.retries,
      // p-retry's own delay is off: onFailedAttempt waits the full-jitter or Retry-After delay.
      minTimeout: 0,
      maxRetryTime: policy.deadlineMs,
      signal: options.signal,
      // Same reason as sleep(): the waiting caller, not the retry, keeps the process alive.
      unref: true,
      onFailedAttempt: async ({ error, attemptNumber, retriesLeft }) => {
        if (retriesLeft === 0) return
        const delayMs = retryDelayMs(error, attemptNumber, policy)
        // A pause that outlasts the deadline ends retrying now, rather than waiting in vain.
        if (delayMs >= remaining()) throw error
        options.onRetry?.({ attempt: attemptNumber, delayMs, error })
        await sleep(delayMs, options.signal)
      },
    },
  )
}
