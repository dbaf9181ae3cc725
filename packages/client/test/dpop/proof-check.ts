/**
 * Reading the DPoP proofs the client sent, in tests: jose checks each one (signature by the key
 * it embeds, `typ`), so a test asserts on claims only of proofs that verify.
 */
import { calculateJwkThumbprint, EmbeddedJWK, type JWTPayload, jwtVerify } from 'jose'
import { expect } from 'vitest'

/** A verified proof: its claims and the thumbprint of its key. */
export interface CheckedProof {
  claims: JWTPayload & { htm?: string; htu?: string; nonce?: string; ath?: string }
  jkt: string
}

/** Verifies a proof with jose and returns its claims; fails the test when there is none or it does not verify. */
export async function checkProof(proof: string | null | undefined): Promise<CheckedProof> {
  expect(proof, 'a DPoP header').toBeTypeOf('string')
  const { payload, protectedHeader } = await jwtVerify(proof!, EmbeddedJWK, {
    typ: 'dpop+jwt',
    // Tests move clocks freely; iat is asserted where it matters.
    clockTolerance: Number.MAX_SAFE_INTEGER,
  })
  return { claims: payload, jkt: await calculateJwkThumbprint(protectedHeader.jwk!) }
}
