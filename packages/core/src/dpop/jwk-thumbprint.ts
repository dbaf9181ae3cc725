/**
 * RFC 7638 JWK thumbprints, the key identity DPoP binds a token to (RFC 9449 §6.1 `cnf.jkt`).
 *
 * @module dpop/jwk-thumbprint
 */
import { createHash } from 'node:crypto'

/**
 * The required members of each key type (RFC 7638 §3.2), already in the lexicographic order the
 * thumbprint's JSON must use. Only asymmetric key types: a DPoP key is always a public key.
 */
const REQUIRED_MEMBERS: Readonly<Record<string, readonly string[]>> = {
  EC: ['crv', 'kty', 'x', 'y'],
  OKP: ['crv', 'kty', 'x'],
  RSA: ['e', 'kty', 'n'],
}

/**
 * The RFC 7638 SHA-256 thumbprint of a public JWK, base64url without padding: the value of
 * `cnf.jkt` (RFC 9449 §6.1). Only the required members count, so the same key gives the same
 * thumbprint whatever optional members (`kid`, `alg`, `use`) travel with it.
 *
 * The key must already be a well-formed public JWK (the DPoP proof check makes sure of that
 * before calling this); anything else is a programming error and throws a `TypeError` that names
 * the missing member, never the key material.
 *
 * @param jwk - an `EC`, `OKP` or `RSA` JWK.
 * @returns the 43-character base64url SHA-256 thumbprint.
 */
export function jwkThumbprint(jwk: Readonly<Record<string, unknown>>): string {
  const kty = jwk.kty
  const members =
    typeof kty === 'string' && Object.hasOwn(REQUIRED_MEMBERS, kty) ? REQUIRED_MEMBERS[kty] : undefined
  if (members === undefined) throw new TypeError('jwkThumbprint: kty must be EC, OKP or RSA')
  // Member values are base64url strings or curve names, none of which JSON escapes, so building
  // the string by hand gives exactly RFC 7638's canonical form.
  let json = '{'
  for (const name of members) {
    const value = jwk[name]
    if (typeof value !== 'string' || value === '')
      throw new TypeError(`jwkThumbprint: ${name} must be a non-empty string`)
    json += `${json.length > 1 ? ',' : ''}"${name}":${JSON.stringify(value)}`
  }
  json += '}'
  return createHash('sha256').update(json).digest('base64url')
}
