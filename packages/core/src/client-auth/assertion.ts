import { randomUUID } from 'node:crypto'
import { type CryptoKey, type JWK, type KeyObject, SignJWT } from 'jose'
import type { AssertionOptions, ClientAuthContext, ClientAuthRequest } from './types.js'

/** RFC 7523 §2.2 assertion type for client authentication. */
export const JWT_BEARER_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'

/** Default lifetime of a client assertion, in seconds. */
export const DEFAULT_ASSERTION_LIFETIME_SEC = 60

/** Signs a fresh RFC 7523 client assertion, puts it in the form body and returns it. */
export async function addClientAssertion(
  request: ClientAuthRequest,
  context: ClientAuthContext,
  key: CryptoKey | KeyObject | JWK | Uint8Array,
  header: { alg: string; kid?: string | undefined } & Record<string, unknown>,
  options: AssertionOptions,
): Promise<string> {
  const now = Math.floor((context.now ?? Date.now)() / 1000)
  const { kid, ...members } = header
  const assertion = await new SignJWT({})
    .setProtectedHeader(
      kid === undefined ? { ...members, alg: header.alg } : { ...members, alg: header.alg, kid },
    )
    .setIssuer(context.clientId)
    .setSubject(context.clientId)
    .setAudience(options.audience ?? context.tokenEndpoint ?? context.issuer ?? context.endpoint)
    .setJti(randomUUID())
    .setIssuedAt(now)
    .setExpirationTime(now + (options.lifetimeSec ?? DEFAULT_ASSERTION_LIFETIME_SEC))
    .sign(key)
  request.body.set('client_id', context.clientId)
  request.body.set('client_assertion_type', JWT_BEARER_ASSERTION_TYPE)
  request.body.set('client_assertion', assertion)
  return assertion
}
