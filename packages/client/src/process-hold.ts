/**
 * Keeps the Node.js process alive while a caller waits for a token. The client's own timers
 * (retry backoff, store time limits) are unref'ed so that background refreshes never hold a
 * process open; a caller awaiting an answer, though, must not see the process end under it
 * (a cron job exiting 0 having done nothing, a CLI exiting 13 on an unsettled top-level await).
 * So the hold belongs to the waiter, not to the timers: it covers every wait on the way (a retry
 * backoff, a store time limit, a background refresh the caller joined) and ends with the answer.
 *
 * @module process-hold
 */

/** Longest delay a Node.js timer accepts, in ms; the interval never needs to fire. */
const MAX_TIMER_MS = 2 ** 31 - 1

function noop(): void {}

/**
 * Returns `promise`, holding the event loop open (with one ref'ed timer) until it settles. Every
 * wait behind a token request is bounded (timeouts, the retry deadline), so the hold is too.
 */
export function holdProcessUntilSettled<T>(promise: Promise<T>): Promise<T> {
  const hold = setInterval(noop, MAX_TIMER_MS)
  return promise.finally(() => clearInterval(hold))
}
