/**
 * The sender-constraint check of RFC 9449 §7: after the token itself passed, whether the way it
 * was sent fits its binding — a DPoP-bound token only with the `DPoP` scheme and a valid proof by
 * its key, an unbound one only with `Bearer` — and that the proof is used once.
 *
 * @module dpop-binding
 */
import {
  InvalidDpopProofError,
  InvalidTokenError,
  TemporarilyUnavailableError,
  UseDpopNonceError,
} from '@oauth-m2m/core'
import { dpopReplayExpiresAtMs, verifyDpopProof } from '@oauth-m2m/core/internal'
import type { DpopSettings } from './dpop-options.js'
import type { DpopRequest, Principal } from './types.js'

function replayed(): never {
  throw new InvalidDpopProofError('the DPoP proof was used before ("jti" replayed)')
}

function storeFailed(cause: unknown): never {
  throw new TemporarilyUnavailableError('the DPoP replay store cannot be reached', { cause })
}

/**
 * Checks how `token` (whose `principal` passed every other check) was sent. Returns nothing when
 * it fits, or a promise when the replay store answers asynchronously. `now` (epoch ms) is read
 * only when there is a proof to judge, so a bearer request never reads the clock here.
 *
 * @throws {InvalidTokenError} a DPoP-bound token without the DPoP scheme (§7.2), an unbound token
 *   with it, or an unbound token where DPoP is required.
 * @throws {InvalidDpopProofError} the proof is missing, invalid, by another key than `cnf.jkt`, or replayed.
 * @throws {UseDpopNonceError} nonces are on and the proof lacks a current one; carries a fresh nonce.
 * @throws {TemporarilyUnavailableError} the replay store failed.
 */
export function checkDpopBinding(
  settings: DpopSettings,
  principal: Principal,
  token: string,
  request: DpopRequest | undefined,
  now: () => number,
): undefined | Promise<void> {
  const jkt = principal.confirmation?.jkt
  if (request === undefined) {
    if (jkt !== undefined) {
      throw new InvalidTokenError(
        'the token is DPoP-bound: send it with Authorization: DPoP and a DPoP proof',
      )
    }
    if (settings.mode === 'required') {
      throw new InvalidTokenError('this resource accepts only DPoP-bound tokens (Authorization: DPoP)')
    }
    return undefined
  }
  if (settings.mode === 'disabled')
    throw new InvalidTokenError('this resource does not accept DPoP-bound tokens')
  if (jkt === undefined) {
    throw new InvalidTokenError('the token is not DPoP-bound: send it with Authorization: Bearer')
  }
  const { nonces } = settings
  const nowMs = now()
  let proof: ReturnType<typeof verifyDpopProof>
  try {
    proof = verifyDpopProof(request.proof, {
      method: request.method,
      url: request.url,
      accessToken: token,
      algorithms: settings.algorithmSet,
      nowSec: nowMs / 1000,
      iatWindowSec: settings.iatWindowSec,
      nonce: nonces && ((nonce) => nonces.accepts(nonce)),
    })
  } catch (err) {
    if (err instanceof UseDpopNonceError && nonces) {
      throw new UseDpopNonceError(err.message, { nonce: nonces.current() })
    }
    throw err
  }
  if (proof.jkt !== jkt) {
    throw new InvalidDpopProofError(
      'the DPoP proof is signed by another key than the one the token is bound to',
    )
  }
  // Remembered for as long as the proof could still pass the iat check, plus the second `iat`
  // loses to rounding.
  const ttlMs = dpopReplayExpiresAtMs(proof.iatSec, settings.iatWindowSec) - nowMs
  let fresh: boolean | Promise<boolean>
  try {
    fresh = settings.replayStore.recordIfNew(`${proof.jkt}.${proof.jti}`, ttlMs)
  } catch (cause) {
    storeFailed(cause)
  }
  if (typeof fresh === 'boolean') {
    if (!fresh) replayed()
    return undefined
  }
  return Promise.resolve(fresh).then((isNew) => {
    if (isNew !== true) replayed()
  }, storeFailed)
}
