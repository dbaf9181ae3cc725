/**
 * Interop with a DPoP client no one here wrote: oauth4webapi (a certified OpenID relying party)
 * makes the proofs (`DPoP(client, keyPair)` + `protectedResourceRequest`) against our middleware
 * over real HTTP, and parses our challenges. Tokens are bound to its key with `cnf.jkt` and
 * signed with jose (the reference server issues DPoP-bound tokens in a later change).
 */
import { createVerifier, type VerifierOptions } from '@oauth-m2m/verifier'
import { calculateJwkThumbprint, exportJWK } from 'jose'
import * as oauth from 'oauth4webapi'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AUDIENCE, accessTokenClaims, ISSUER, makeKey, mintToken, type TestKey } from '../support/keys.js'
import { APPS } from './apps.js'
import type { AppUnderTest, StartApp } from './conformance.js'

let signer: TestKey
type KeyPair = Awaited<ReturnType<typeof oauth.generateKeyPair>>
let keyPair: KeyPair
let otherKeyPair: KeyPair
let jkt: string
const client: oauth.Client = { client_id: 'service-a' }

beforeAll(async () => {
  signer = await makeKey('ES256', 'as-key')
  keyPair = await oauth.generateKeyPair('ES256')
  otherKeyPair = await oauth.generateKeyPair('EdDSA')
  jkt = await calculateJwkThumbprint(await exportJWK(keyPair.publicKey), 'sha256')
})

function verifierWith(dpop?: VerifierOptions['dpop']) {
  return createVerifier({ issuer: ISSUER, audience: AUDIENCE, jwks: { keys: [signer.publicJwk] }, dpop })
}

const boundToken = () => mintToken(signer, accessTokenClaims({ cnf: { jkt } }))

/** oauth4webapi's resource request, to loopback over http. */
function request(url: string, token: string, DPoP?: oauth.DPoPHandle) {
  return oauth.protectedResourceRequest(token, 'GET', new URL(url), new Headers(), null, {
    DPoP,
    [oauth.allowInsecureRequests]: true,
  })
}

async function challengesOf(promise: Promise<unknown>): Promise<oauth.WWWAuthenticateChallenge[]> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(oauth.WWWAuthenticateChallengeError)
  return (err as oauth.WWWAuthenticateChallengeError).cause
}

function interop(startApp: StartApp): void {
  let app: AppUnderTest
  let url: string
  beforeAll(async () => {
    app = await startApp({ verifier: verifierWith(), realm: 'things-api' })
    url = `${app.url}/things?page=1`
  })
  afterAll(() => app.close())

  it("accepts oauth4webapi's proofs, a fresh one per request", async () => {
    const handle = oauth.DPoP(client, keyPair)
    const token = await boundToken()
    for (let i = 0; i < 3; i++) {
      const response = await request(url, token, handle)
      expect(response.status, await response.clone().text()).toBe(200)
      expect(await response.json()).toEqual({
        clientId: 'service-a',
        scopes: ['read:things', 'write:things'],
      })
    }
  })

  it('refuses the token with a proof by another key, in challenges oauth4webapi parses', async () => {
    const challenges = await challengesOf(request(url, await boundToken(), oauth.DPoP(client, otherKeyPair)))
    expect(challenges.map((c) => c.scheme)).toEqual(['dpop', 'bearer'])
    expect(challenges[0]!.parameters).toMatchObject({
      realm: 'things-api',
      error: 'invalid_dpop_proof',
      algs: expect.stringContaining('ES256'),
    })
  })

  it('refuses the DPoP-bound token sent as a bearer token', async () => {
    const challenges = await challengesOf(request(url, await boundToken()))
    expect(challenges[0]).toMatchObject({ scheme: 'bearer', parameters: { error: 'invalid_token' } })
    expect(challenges[1]).toMatchObject({ scheme: 'dpop', parameters: { algs: expect.any(String) } })
  })
}

function nonceDance(startApp: StartApp): void {
  it('does the resource-server nonce dance with oauth4webapi (§9)', async () => {
    const app = await startApp({ verifier: verifierWith({ nonce: true }) })
    try {
      const url = `${app.url}/things`
      const handle = oauth.DPoP(client, keyPair)
      const token = await boundToken()
      const first = await request(url, token, handle).catch((e: unknown) => e)
      expect(oauth.isDPoPNonceError(first)).toBe(true)
      // oauth4webapi kept the DPoP-Nonce of the answer; its retry, and later requests, carry it.
      expect((await request(url, token, handle)).status).toBe(200)
      expect((await request(url, token, handle)).status).toBe(200)
    } finally {
      await app.close()
    }
  })
}

for (const [name, startApp] of Object.entries(APPS)) {
  describe(`oauth4webapi DPoP against the ${name} middleware`, () => {
    interop(startApp)
    nonceDance(startApp)
  })
}
