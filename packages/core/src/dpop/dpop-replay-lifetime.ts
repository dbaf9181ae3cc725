/**
 * How long a DPoP proof's `jti` must be remembered against replay (RFC 9449 §11.1).
 *
 * @module dpop/dpop-replay-lifetime
 */

/**
 * When a proof issued at `iatSec` can no longer pass the `iat` check, in epoch milliseconds: its
 * `jti` must be remembered until then. One second more than the window, for the fraction of a
 * second `iat` loses to rounding.
 *
 * @param iatSec - the proof's `iat`, seconds since the epoch.
 * @param iatWindowSec - how far from now an `iat` may be, in seconds.
 */
export function dpopReplayExpiresAtMs(iatSec: number, iatWindowSec: number): number {
  return (iatSec + iatWindowSec + 1) * 1000
}
