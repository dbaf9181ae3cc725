/**
 * When a cached token stops being fresh and when it stops being usable.
 *
 * - **fresh** until `refreshAt`: served as is;
 * - **stale** until `expiredAt`: still served at once, while one background refresh runs;
 * - **expired** from `expiredAt` (`expiresAt` minus the expiry margin): callers wait for a new token.
 *
 * @module token-lifecycle
 */
import type { TokenSet } from './token-set.js'

/** Lifecycle timings with every default applied, in ms or ratios. */
export interface LifecycleTimings {
  /** Share of the lifetime after which the token is refreshed. */
  refreshRatio: number
  /** Refresh at least this long before expiry (capped at half the lifetime), in ms. */
  refreshMarginMs: number
  /** Largest jitter subtracted from `refreshAt`, as a share of the lifetime. */
  refreshJitterRatio: number
  /** The token counts as expired this long before `expiresAt` (capped at half the lifetime), in ms. */
  expiryMarginMs: number
  /** Lifetime assumed when neither `expires_in` nor a JWT `exp` gives one, in ms. */
  defaultExpiresInMs: number
  /** Longest lifetime believed, whatever the server or a store says, in ms. */
  maxLifetimeMs: number
}

/** The documented defaults of the lifecycle options. */
export const DEFAULT_LIFECYCLE_TIMINGS: Readonly<LifecycleTimings> = Object.freeze({
  refreshRatio: 0.8,
  refreshMarginMs: 60_000,
  refreshJitterRatio: 0.1,
  expiryMarginMs: 30_000,
  defaultExpiresInMs: 300_000,
  maxLifetimeMs: 86_400_000,
})

/** The two instants that divide a token's life, epoch ms. */
export interface TokenSchedule {
  /** Start of the stale period: the token is refreshed on its next use from then on. */
  refreshAt: number
  /** Start of the expired period: the token is no longer served. */
  expiredAt: number
}

/** Where a token stands at an instant. */
export type TokenState = 'fresh' | 'stale' | 'expired'

/**
 * Computes the schedule of `token`:
 * `refreshAt = min(expiresAt − margin, issuedAt + ratio × lifetime) − random jitter`, where the
 * refresh margin and the expiry margin are each capped at half the lifetime and the jitter is at most
 * `refreshJitterRatio × lifetime`, so that a fleet of clients does not refresh in lock-step.
 * `refreshAt` never falls before `issuedAt` nor after `expiredAt`.
 *
 * @param random Source of the jitter, uniform in [0, 1).
 */
export function scheduleToken(
  token: Pick<TokenSet, 'issuedAt' | 'expiresAt'>,
  timings: LifecycleTimings,
  random: () => number = Math.random,
): TokenSchedule {
  const lifetime = Math.max(0, token.expiresAt - token.issuedAt)
  const expiredAt = token.expiresAt - Math.min(timings.expiryMarginMs, lifetime / 2)
  const margin = Math.min(timings.refreshMarginMs, lifetime / 2)
  const planned = Math.min(token.expiresAt - margin, token.issuedAt + timings.refreshRatio * lifetime)
  const jitter = random() * timings.refreshJitterRatio * lifetime
  const refreshAt = Math.max(token.issuedAt, Math.min(planned - jitter, expiredAt))
  return { refreshAt, expiredAt }
}

/**
 * `token` with its lifetime bounded: `issuedAt` no later than `nowMs`, and `expiresAt` no later than
 * `issuedAt + maxLifetimeMs`. A server (or a shared store) that says a token lives for millennia is
 * wrong, and believing it would serve one token until the process dies, even after revocation or a
 * key rotation. The same object when nothing needs bounding.
 */
export function boundLifetime(token: TokenSet, maxLifetimeMs: number, nowMs: number): TokenSet {
  const issuedAt = Math.min(token.issuedAt, nowMs)
  const expiresAt = Math.min(token.expiresAt, issuedAt + maxLifetimeMs)
  if (issuedAt === token.issuedAt && expiresAt === token.expiresAt) return token
  return { ...token, issuedAt, expiresAt }
}

/** Where a token with `schedule` stands at `nowMs`. */
export function tokenState(schedule: TokenSchedule, nowMs: number): TokenState {
  if (nowMs < schedule.refreshAt) return 'fresh'
  if (nowMs < schedule.expiredAt) return 'stale'
  return 'expired'
}

/**
 * Delay before the next background refresh after `failures` failed ones in a row: exponential
 * from 1 s, doubling, up to 60 s, with jitter over its upper half so that a fleet spreads out.
 */
export function refreshRetryDelayMs(failures: number, random: () => number = Math.random): number {
  const ceiling = Math.min(60_000, 1000 * 2 ** Math.max(0, failures - 1))
  return ceiling / 2 + random() * (ceiling / 2)
}
