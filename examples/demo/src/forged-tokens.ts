/**
 * What an attacker could try: access tokens with believable claims that the authorization server
 * never issued. One is signed with the attacker's own key under the issuer's real `kid`; the
 * other claims `alg: none` and carries no signature at all.
 *
 * @module forged-tokens
 */
import { generateKeyPairSync, randomUUID, sign } from 'node:crypto'

/** Claims that look like a real RFC 9068 access token for `audience`. */
export interface ForgedClaims {
  issuer: string
  audience: string
  clientId: string
  scope: string
}

function encodePart(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url')
}

function claimsOf(forged: ForgedClaims): object {
  const iat = Math.floor(Date.now() / 1000)
  return {
    iss: forged.issuer,
    sub: forged.clientId,
    aud: forged.audience,
    client_id: forged.clientId,
    scope: forged.scope,
    iat,
    exp: iat + 300,
    jti: randomUUID(),
  }
}

/** An ES256 token signed with a key the attacker just made, labelled with the issuer's `kid`. */
export function tokenSignedWithAnotherKey(forged: ForgedClaims, kid: string): string {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const signingInput = `${encodePart({ alg: 'ES256', typ: 'at+jwt', kid })}.${encodePart(claimsOf(forged))}`
  const signature = sign('sha256', Buffer.from(signingInput), { key: privateKey, dsaEncoding: 'ieee-p1363' })
  return `${signingInput}.${signature.toString('base64url')}`
}

/** An unsigned token (`alg: none`), which a careless verifier would accept as is. */
export function unsignedToken(forged: ForgedClaims): string {
  return `${encodePart({ alg: 'none', typ: 'at+jwt' })}.${encodePart(claimsOf(forged))}.`
}
