/** Key pairs for tests, with their public JWKs, and a minter of access tokens signed by them. */
import { type CryptoKey, exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from 'jose'

export interface TestKey {
  alg: string
  kid: string
  privateKey: CryptoKey
  publicJwk: JWK
}

export async function makeKey(alg: string, kid: string, options: { crv?: string } = {}): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true, ...options })
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' }
  return { alg, kid, privateKey, publicJwk }
}

/** Issuer of tokens checked against an explicit `jwksUri` (no discovery involved). */
export const ISSUER = 'https://as.test.example'
export const AUDIENCE = 'https://api.test.example'

/** Claims of a valid client-credentials access token (RFC 9068 §2.2), overridable. */
export function accessTokenClaims(overrides: Record<string, unknown> = {}): JWTPayload {
  const now = Math.floor(Date.now() / 1000)
  return {
    iss: ISSUER,
    aud: AUDIENCE,
    sub: 'service-a',
    client_id: 'service-a',
    scope: 'read:things write:things',
    iat: now,
    exp: now + 600,
    jti: `jti-${Math.random().toString(36).slice(2)}`,
    ...overrides,
  }
}

/** Signs `claims` with `key`; the header is `{ alg, kid, typ: 'at+jwt' }` plus `header`. */
export function mintToken(
  key: TestKey,
  claims: JWTPayload = accessTokenClaims(),
  header: Record<string, unknown> = {},
): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt', ...header } as { alg: string })
    .sign(key.privateKey)
}
