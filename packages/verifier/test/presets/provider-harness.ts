/**
 * What every preset test shares: an RSA key pair standing in for the provider's signing key, a
 * key server (an msw handler for exactly the provider's documented JWKS URL, reached through the
 * verifier's `dispatcher`), tokens signed with the exact header the provider writes, and the
 * refusals the issue lists for every provider: another tenant/realm/pool, wrong audience or
 * client, ID token, expired, `alg: none`, another key, a scopes claim of the wrong type.
 */

import { createMswDispatcher } from '@oauth-m2m/testing/msw'
import { createVerifier, InvalidTokenError, type Principal, type VerifierOptions } from '@oauth-m2m/verifier'
import type { JWK } from 'jose'
import { HttpResponse, http } from 'msw'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { makeKey, type TestKey } from '../support/keys.js'
import { signCompact } from '../support/raw-jws.js'

/** Claims of a token, before signing. */
export type Claims = Record<string, unknown>

/** A provider as its documentation describes its tokens. */
export interface ProviderCase {
  /** The preset's result, as an application would pass it. */
  preset: VerifierOptions
  /** The JWKS URL the provider documents; the only URL the key server answers. */
  jwksUrl: string
  /** The provider's JWK for a public key (its members, e.g. with or without `alg`). */
  jwk(publicJwk: JWK): JWK
  /** The JOSE header the provider writes, for a key id. */
  header(kid: string): Record<string, unknown>
  /** The claims of a valid access token, issued `now` (epoch seconds). */
  claims(now: number): Claims
  /** What the valid token's principal says. */
  principal: Pick<Principal, 'clientId' | 'scopes'>
  /** The claims of a token of another tenant, realm or pool (another `iss`). */
  otherIssuer(claims: Claims): Claims
  /** A token for another API (wrong `aud`) or, without `aud`, of a client not allowed. */
  wrongAudienceOrClient(claims: Claims): Claims
  /** An ID token of the same issuer, built as the provider documents them (header and claims). */
  idToken(now: number): { header?: Record<string, unknown>; claims: Claims }
  /** The valid claims with the scopes claim of a type the provider never sends. */
  badScopes(claims: Claims): Claims
}

/** The key server: an msw dispatcher that counts the requests it answers. */
export interface KeyServer {
  dispatcher: ReturnType<typeof createMswDispatcher>
  /** URLs asked, in order. */
  readonly requests: string[]
}

/** A key server publishing `keys` at exactly `url`. */
export function keyServer(url: string, keys: () => JWK[]): KeyServer {
  const requests: string[] = []
  const dispatcher = createMswDispatcher([
    http.get(url, ({ request }) => {
      requests.push(request.url)
      return HttpResponse.json({ keys: keys() })
    }),
  ])
  return { dispatcher, requests }
}

/** Signs `claims` under `header` with `key` (RS256 unless the header says otherwise). */
export function sign(key: TestKey, header: Record<string, unknown>, claims: Claims): string {
  return signCompact(header, claims, String(header.alg ?? 'RS256'), key.privateKey)
}

/** The current time in epoch seconds. */
export const nowSec = () => Math.floor(Date.now() / 1000)

/** Verifies `token` with a fresh verifier of `options`; the principal, or the error. */
export async function verdict(options: VerifierOptions, token: string): Promise<Principal | Error> {
  const verifier = createVerifier({ ...options, tokenCache: false })
  try {
    return await verifier.verify(token)
  } catch (err) {
    return err as Error
  } finally {
    await verifier.close()
  }
}

/** A refusal as `invalid_token`, for the reason expected (so it cannot pass by failing elsewhere). */
function expectInvalidToken(outcome: Principal | Error, what: string, reason: RegExp): void {
  expect(outcome, what).toBeInstanceOf(InvalidTokenError)
  expect((outcome as Error).message, what).toMatch(reason)
}

/** Registers the shared acceptance and refusal tests of one provider in the current `describe`. */
export function providerConformance(make: () => ProviderCase): void {
  let provider: ProviderCase
  let key: TestKey
  let otherKey: TestKey
  let server: KeyServer
  let options: VerifierOptions

  beforeAll(async () => {
    provider = make()
    key = await makeKey('RS256', 'provider-key-1')
    // Another key pair under the same kid: what an attacker who knows the kid can sign with.
    otherKey = await makeKey('RS256', 'provider-key-1')
    server = keyServer(provider.jwksUrl, () => [provider.jwk(key.publicJwk)])
    options = { ...provider.preset, dispatcher: server.dispatcher }
  })
  afterAll(() => server.dispatcher.close())

  const token = (claims: Claims, header?: Record<string, unknown>, signer = key) =>
    sign(signer, header ?? provider.header(key.kid), claims)

  it('accepts a token built as the provider documents it, with keys from the documented URL', async () => {
    const before = server.requests.length
    const outcome = await verdict(options, token(provider.claims(nowSec())))
    if (outcome instanceof Error) throw outcome
    expect({ clientId: outcome.clientId, scopes: outcome.scopes }).toEqual(provider.principal)
    expect(server.requests.slice(before)).toEqual([provider.jwksUrl])
  })

  it('refuses a token of another tenant, realm or pool (another iss)', async () => {
    const outcome = await verdict(options, token(provider.otherIssuer(provider.claims(nowSec()))))
    expectInvalidToken(outcome, 'other issuer', /issuer/)
  })

  it('refuses a token for another API or client', async () => {
    const outcome = await verdict(options, token(provider.wrongAudienceOrClient(provider.claims(nowSec()))))
    expectInvalidToken(outcome, 'wrong audience or client', /audience|client/)
  })

  it('refuses an ID token of the same issuer', async () => {
    const id = provider.idToken(nowSec())
    const outcome = await verdict(options, token(id.claims, id.header))
    expectInvalidToken(outcome, 'ID token', /audience|client|access token/)
  })

  it('refuses an expired token', async () => {
    const now = nowSec()
    const claims = { ...provider.claims(now - 7200), exp: now - 600 }
    const outcome = await verdict(options, token(claims))
    expectInvalidToken(outcome, 'expired', /expired/)
  })

  it('refuses alg: none', async () => {
    const header = { ...provider.header(key.kid), alg: 'none' }
    const unsigned = signCompact(header, provider.claims(nowSec()), 'none', '')
    expectInvalidToken(await verdict(options, unsigned), 'alg none', /algorithm/)
  })

  it('refuses a token signed by another key under the same kid', async () => {
    const outcome = await verdict(options, token(provider.claims(nowSec()), undefined, otherKey))
    expectInvalidToken(outcome, 'other key', /signature/)
  })

  it('refuses a token whose scopes claim has the wrong type', async () => {
    const outcome = await verdict(options, token(provider.badScopes(provider.claims(nowSec()))))
    expectInvalidToken(outcome, 'scopes of the wrong type', /claim/)
  })
}
