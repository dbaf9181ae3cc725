/**
 * The JWT client assertion of `client_secret_jwt` and `private_key_jwt` (RFC 7523 §2.2 and §3), as
 * draft-ietf-oauth-rfc7523bis-11 updates it: `aud` is the authorization server's issuer identifier,
 * one string, and the header says `typ: client-authentication+jwt`. The draft closes an attack in
 * which an assertion made for one endpoint (another server's token endpoint, a PAR or CIBA
 * endpoint) is replayed where it was not meant to go; one value that names the server, not an
 * endpoint, leaves nothing to choose.
 *
 * @module client-auth/assertion
 */
import { randomUUID } from 'node:crypto'
import type { CryptoKey, JWK, KeyObject } from 'jose'
import { ConfigurationError } from '../errors.js'
import type { AssertionOptions, ClientAuthContext, ClientAuthRequest } from './types.js'

/** RFC 7523 §2.2 assertion type for client authentication. */
export const JWT_BEARER_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'

/** Default lifetime of a client assertion, in seconds. */
export const DEFAULT_ASSERTION_LIFETIME_SEC = 60

/**
 * The explicit type of a client authentication JWT (draft-ietf-oauth-rfc7523bis-11 §4, media type
 * `application/client-authentication+jwt`), the default `typ` header of every assertion.
 */
export const CLIENT_ASSERTION_JWT_TYPE = 'client-authentication+jwt'

const HEADER_VALUE = /^[\x21-\x7e]+$/

/**
 * Refuses assertion options that would only fail at the server.
 *
 * @throws {ConfigurationError} naming `owner` when `audience` or `typ` is not a non-empty string.
 */
export function assertAssertionOptions(options: AssertionOptions, owner: string): void {
  if (options.audience !== undefined && (typeof options.audience !== 'string' || options.audience === '')) {
    throw new ConfigurationError(`${owner}: audience must be a non-empty string`)
  }
  if (options.typ !== undefined && (typeof options.typ !== 'string' || !HEADER_VALUE.test(options.typ))) {
    throw new ConfigurationError(`${owner}: typ must be a media type such as client-authentication+jwt`)
  }
}

/**
 * The assertion's `aud`: the explicit `audience`, else the issuer identifier (the draft's value),
 * else, when the issuer is not known (a client given only a token endpoint), the token endpoint,
 * which is what servers accepted before the draft, else the endpoint the request goes to.
 */
export function assertionAudience(context: ClientAuthContext, options: AssertionOptions): string {
  return options.audience ?? context.issuer ?? context.tokenEndpoint ?? context.endpoint
}

/** Signs a fresh client assertion, puts it in the form body and returns it. */
export async function addClientAssertion(
  request: ClientAuthRequest,
  context: ClientAuthContext,
  key: CryptoKey | KeyObject | JWK | Uint8Array,
  header: { alg: string; kid?: string | undefined } & Record<string, unknown>,
  options: AssertionOptions,
): Promise<string> {
  const now = Math.floor((context.now ?? Date.now)() / 1000)
  const { kid, ...members } = header
  const typ = options.typ ?? CLIENT_ASSERTION_JWT_TYPE
  // jose is loaded when the first assertion is signed, not when the package is imported.
  const { SignJWT } = await import('jose')
  const assertion = await new SignJWT({})
    .setProtectedHeader(
      kid === undefined ? { ...members, typ, alg: header.alg } : { ...members, typ, alg: header.alg, kid },
    )
    .setIssuer(context.clientId)
    .setSubject(context.clientId)
    // A string, never an array: the draft requires one value, and servers compare it as one.
    .setAudience(assertionAudience(context, options))
    .setJti(randomUUID())
    .setIssuedAt(now)
    .setExpirationTime(now + (options.lifetimeSec ?? DEFAULT_ASSERTION_LIFETIME_SEC))
    .sign(key)
  request.body.set('client_id', context.clientId)
  request.body.set('client_assertion_type', JWT_BEARER_ASSERTION_TYPE)
  request.body.set('client_assertion', assertion)
  return assertion
}
