/**
 * Tokens a verifier must refuse, one kind per call, for suites that test refusals: each is a real
 * token of the server (same client, scope and audience as a valid one) with exactly one thing
 * wrong, so that a verifier accepting it has a bug in that one check.
 *
 * @module invalid-tokens
 */
import { randomUUID } from 'node:crypto'
import { ConfigurationError } from '@oauth-m2m/core'
import type { AuthorizationServer } from '@oauth-m2m/server'
import { issueAccessToken } from '@oauth-m2m/server/internal'
// jose's own entry points for each function, not its index (which loads all of JOSE and JWE).
import type { CryptoKey, JWK, JWTPayload } from 'jose'
import * as base64url from 'jose/base64url'
import { decodeProtectedHeader } from 'jose/decode/protected_header'
import { SignJWT } from 'jose/jwt/sign'
import { exportSPKI } from 'jose/key/export'
import { generateKeyPair } from 'jose/key/generate/keypair'
import { importJWK } from 'jose/key/import'
import type { TestClientCredentials } from './test-clients.js'
import { issuedTestToken, type MintTokenOptions, shapeClaims } from './token-minting.js'

/** Every {@link InvalidTokenKind}: the kinds of invalid token `mintInvalidToken` makes. */
export const INVALID_TOKEN_KINDS = [
  'expired',
  'not-yet-valid',
  'wrong-issuer',
  'wrong-audience',
  'unknown-kid',
  'signed-by-another-key',
  'alg-none',
  'hs256-with-public-key',
  'truncated',
  'id-token',
] as const

/**
 * What is wrong with a token from `mintInvalidToken`; every kind but the first four is a JWT
 * whatever the resource's token format:
 * - `expired`: issued two hours ago, expired an hour ago (well past any clock tolerance).
 * - `not-yet-valid`: `nbf` an hour from now.
 * - `wrong-issuer`: `iss` is `https://wrong-issuer.invalid`.
 * - `wrong-audience`: `aud` is `https://wrong-audience.invalid`.
 * - `unknown-kid`: signed by a new key of the server's algorithm, under a `kid` the server's JWKS
 *   does not list.
 * - `signed-by-another-key`: the header names the server's current key (`kid`, `alg`), the
 *   signature is another key's.
 * - `alg-none`: an unsecured JWT (`alg: none`, empty signature) with the server's `typ` and `kid`.
 * - `hs256-with-public-key`: HMAC-SHA256 keyed with the server's current public key in PEM form:
 *   the UTF-8 bytes of its SPKI PEM (`-----BEGIN PUBLIC KEY-----`, 64-character lines, ending in a
 *   newline, as OpenSSL and `node:crypto` write it). The classic algorithm-confusion attack on a
 *   verifier that takes the algorithm from the token and hands the public key to HMAC.
 * - `truncated`: a valid token whose signature lost its second half.
 * - `id-token`: an OpenID Connect ID token signed with the server's real key: `typ: JWT`, `aud` the
 *   client id, `sub`, `iss`, `iat`, `exp`, `auth_time`, `nonce`, `azp`; no `scope` or `client_id`.
 *
 * The first four are signed with the server's real key (or stored, for an opaque resource), so
 * only the named claim is wrong.
 */
export type InvalidTokenKind = (typeof INVALID_TOKEN_KINDS)[number]

/** Options of `mintInvalidToken`: whose token is spoiled. */
export type MintInvalidTokenOptions = Pick<MintTokenOptions, 'clientId' | 'scope' | 'resource'>

const HOUR_SEC = 3600

function encodeJson(value: object): string {
  return base64url.encode(JSON.stringify(value))
}

/** The server's public JWK of `kid`, from its own JWKS document (answered in process). */
async function publishedKey(server: AuthorizationServer, kid: string): Promise<JWK> {
  const answer = await server.handle(new Request(server.metadata.jwks_uri))
  const { keys } = (await answer.json()) as { keys: JWK[] }
  const key = keys.find((candidate) => candidate.kid === kid)
  if (key === undefined) throw new Error('@oauth-m2m/testing: the current signing key is not on the JWKS')
  return key
}

/** A JWT with `claims` under `header`, signed by a key the server never published. */
async function signedByStranger(
  claims: JWTPayload,
  header: { alg: string; kid: string; typ?: string },
): Promise<string> {
  const { privateKey } = await generateKeyPair(header.alg, {
    crv: header.alg === 'EdDSA' ? 'Ed25519' : undefined,
  })
  return new SignJWT(claims).setProtectedHeader(header).sign(privateKey)
}

/**
 * A token of `kind` for `client`, built on a valid token of the server.
 *
 * @param now The server's clock, epoch milliseconds: the time counted from when the issued token
 *   has no `iat` (a `beforeSign` hook removed it).
 * @throws {ConfigurationError} for an unknown kind.
 */
export async function mintInvalidTestToken(
  server: AuthorizationServer,
  client: TestClientCredentials,
  kind: InvalidTokenKind,
  options: MintInvalidTokenOptions,
  now: () => number,
): Promise<string> {
  if (!(INVALID_TOKEN_KINDS as readonly string[]).includes(kind)) {
    throw new ConfigurationError(
      `@oauth-m2m/testing: mintInvalidToken kind must be one of ${INVALID_TOKEN_KINDS.join(', ')}`,
    )
  }
  const issued = await issuedTestToken(server, client, options)
  const claims = issued.claims
  const iat = typeof claims.iat === 'number' ? claims.iat : Math.floor(now() / 1000)
  const reissue = (changes: Readonly<Record<string, unknown>>, format = issued.format) =>
    issueAccessToken(server, { claims: shapeClaims(claims, { claims: changes }), format })
  switch (kind) {
    case 'expired':
      return reissue({ iat: iat - 2 * HOUR_SEC, exp: iat - HOUR_SEC })
    case 'not-yet-valid':
      return reissue({ nbf: iat + HOUR_SEC, exp: iat + 2 * HOUR_SEC })
    case 'wrong-issuer':
      return reissue({ iss: 'https://wrong-issuer.invalid' })
    case 'wrong-audience':
      return reissue({ aud: 'https://wrong-audience.invalid' })
    case 'id-token':
      return issueAccessToken(server, {
        claims: {
          iss: claims.iss,
          sub: `user-${randomUUID()}`,
          aud: client.clientId,
          azp: client.clientId,
          iat,
          exp: iat + HOUR_SEC,
          auth_time: iat - 60,
          nonce: randomUUID(),
        },
        header: { typ: 'JWT' },
      })
  }
  // The rest are JWTs however the resource's tokens are made: their header is what is wrong.
  const jwt = issued.format === 'jwt' ? issued.token : await reissue({}, 'jwt')
  const header = decodeProtectedHeader(jwt) as { alg: string; kid: string; typ?: string }
  const [encodedHeader, encodedPayload, signature] = jwt.split('.') as [string, string, string]
  switch (kind) {
    case 'unknown-kid':
      return signedByStranger(claims, { ...header, kid: `unknown-${randomUUID()}` })
    case 'signed-by-another-key':
      return signedByStranger(claims, header)
    case 'alg-none':
      return `${encodeJson({ ...header, alg: 'none' })}.${encodedPayload}.`
    case 'hs256-with-public-key': {
      const publicKey = await importJWK(await publishedKey(server, header.kid), header.alg)
      // As OpenSSL and node:crypto write it (and a verifier reads it from a file): jose leaves out
      // the final newline.
      const pem = `${(await exportSPKI(publicKey as CryptoKey)).trimEnd()}\n`
      return new SignJWT(claims)
        .setProtectedHeader({ ...header, alg: 'HS256' })
        .sign(new TextEncoder().encode(pem))
    }
    case 'truncated':
      return `${encodedHeader}.${encodedPayload}.${signature.slice(0, Math.floor(signature.length / 2))}`
  }
}
