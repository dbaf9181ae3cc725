/**
 * The reference DPoP proof check built on jose: `jwtVerify` with the proof's own `jwk`
 * (`EmbeddedJWK`) for everything JOSE — syntax, header, key fitness, signature, `exp`/`nbf` — and
 * the RFC 9449 §4.3 rules written out plainly on top. The differential test holds core's
 * node:crypto `verifyDpopProof` to it; the bench measures both on the same proofs.
 */
import {
  DEFAULT_DPOP_IAT_WINDOW_SEC,
  DPOP_SIGNING_ALGS,
  type DpopProofExpectations,
  MAX_DPOP_JTI_LENGTH,
  MAX_DPOP_PROOF_LENGTH,
  normalizeHtu,
} from '@oauth-m2m/core/internal'
import { calculateJwkThumbprint, EmbeddedJWK, type JWK, jwtVerify } from 'jose'

/** How the reference refused a proof. */
export class ReferenceRefusal extends Error {
  constructor(readonly kind: 'invalid' | 'nonce') {
    super(kind)
  }
}

const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k', 'priv']

function refuse(): never {
  throw new ReferenceRefusal('invalid')
}

function nonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value !== ''
}

/** The jose-based verdict: the proof's thumbprint, or a {@link ReferenceRefusal}. */
export async function joseVerifyDpopProof(proof: string, expect: DpopProofExpectations): Promise<string> {
  // RFC 7515 §2 and §7.1: unpadded base64url, three segments (jose also takes padding).
  if (proof.length > MAX_DPOP_PROOF_LENGTH || !COMPACT_JWS.test(proof)) refuse()
  let verified: Awaited<ReturnType<typeof jwtVerify>>
  try {
    verified = await jwtVerify(proof, EmbeddedJWK, {
      typ: 'dpop+jwt',
      algorithms: [...(expect.algorithms ?? DPOP_SIGNING_ALGS)],
      currentDate: new Date(Math.floor(expect.nowSec) * 1000),
      requiredClaims: ['jti', 'htm', 'htu', 'iat'],
    })
  } catch {
    refuse()
  }
  const { payload, protectedHeader } = verified
  const jwk = protectedHeader.jwk as Record<string, unknown>
  // §4.3 rule 7: no private key; jose only refuses what imports as a private key.
  if (PRIVATE_MEMBERS.some((member) => jwk[member] !== undefined)) refuse()
  const { jti, htm, htu, iat, ath, nonce } = payload as Record<string, unknown>
  if (!nonEmptyString(jti) || jti.length > MAX_DPOP_JTI_LENGTH) refuse()
  if (!nonEmptyString(htm) || !nonEmptyString(htu) || typeof iat !== 'number') refuse()
  if (htm !== expect.method) refuse()
  if (normalizeHtu(htu) === undefined || normalizeHtu(htu) !== normalizeHtu(expect.url)) refuse()
  const now = Math.floor(expect.nowSec)
  const window = expect.iatWindowSec ?? DEFAULT_DPOP_IAT_WINDOW_SEC
  if (iat < now - window || iat > now + window) refuse()
  if (expect.accessToken !== undefined) {
    const digest = Buffer.from(
      await crypto.subtle.digest('SHA-256', new TextEncoder().encode(expect.accessToken)),
    )
    if (ath !== digest.toString('base64url')) refuse()
  }
  if (nonce !== undefined && typeof nonce !== 'string') refuse()
  if (expect.nonce !== undefined && !expect.nonce(nonce)) throw new ReferenceRefusal('nonce')
  return calculateJwkThumbprint(jwk as JWK, 'sha256')
}
