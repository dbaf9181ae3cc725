/**
 * Interop with a DPoP client no one here wrote: oauth4webapi 3.8.8 (a certified OpenID relying
 * party) discovers the server, makes the proofs with `DPoP(client, keyPair)` and asks for tokens
 * with `clientCredentialsGrantRequest`, over real loopback HTTP: with each kind of key it offers,
 * with `private_key_jwt` client authentication, and through the server-nonce dance (§8), which it
 * handles on its own once told to retry.
 */
import { calculateJwkThumbprint, decodeJwt, exportJWK } from 'jose'
import * as oauth from 'oauth4webapi'
import { describe, expect, it } from 'vitest'
import { startServer } from './test-server.js'

const SECRET = 'svc-secret-0123456789abcdef'
const client: oauth.Client = { client_id: 'svc' }
const HTTP = { [oauth.allowInsecureRequests]: true } as const

async function discover(url: string): Promise<oauth.AuthorizationServer> {
  const issuer = new URL(url)
  return oauth.processDiscoveryResponse(
    issuer,
    await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...HTTP }),
  )
}

type KeyPair = Awaited<ReturnType<typeof oauth.generateKeyPair>>

async function thumbprint(keyPair: KeyPair): Promise<string> {
  return calculateJwkThumbprint(await exportJWK(keyPair.publicKey), 'sha256')
}

function tokenRequest(
  as: oauth.AuthorizationServer,
  auth: oauth.ClientAuth,
  DPoP: oauth.DPoPHandle,
  who: oauth.Client = client,
): Promise<oauth.TokenEndpointResponse> {
  return oauth
    .clientCredentialsGrantRequest(as, who, auth, { scope: 'read' }, { DPoP, ...HTTP })
    .then((response) => oauth.processClientCredentialsResponse(as, who, response))
}

describe('oauth4webapi DPoP against the reference server', () => {
  it('finds dpop_signing_alg_values_supported and gets a bound token with every key kind it makes', async () => {
    const { url } = await startServer({
      clients: [{ client_id: 'svc', client_secret: SECRET, scope: 'read', dpop_bound_access_tokens: true }],
    })
    const as = await discover(url)
    expect(as.dpop_signing_alg_values_supported).toContain('ES256')
    for (const alg of ['ES256', 'EdDSA', 'PS256', 'RS256']) {
      const keyPair = await oauth.generateKeyPair(alg)
      const answer = await tokenRequest(as, oauth.ClientSecretBasic(SECRET), oauth.DPoP(client, keyPair))
      // oauth4webapi lower-cases token_type.
      expect(answer.token_type, alg).toBe('dpop')
      expect(decodeJwt(answer.access_token).cnf).toEqual({ jkt: await thumbprint(keyPair) })
    }
  })

  it('with private_key_jwt: the assertion and the proof are two keys, the token is bound to the proof key', async () => {
    const clientKey = await oauth.generateKeyPair('ES256')
    const { url } = await startServer({
      clients: [
        {
          client_id: 'pkj',
          token_endpoint_auth_method: 'private_key_jwt',
          jwks: { keys: [await exportJWK(clientKey.publicKey)] },
          scope: 'read',
        },
      ],
    })
    const as = await discover(url)
    const who: oauth.Client = { client_id: 'pkj' }
    const proofKey = await oauth.generateKeyPair('EdDSA')
    const answer = await tokenRequest(
      as,
      oauth.PrivateKeyJwt(clientKey.privateKey),
      oauth.DPoP(who, proofKey),
      who,
    )
    expect(answer.token_type).toBe('dpop')
    expect(decodeJwt(answer.access_token).cnf).toEqual({ jkt: await thumbprint(proofKey) })
  })

  it('goes through the nonce dance once, then sends the nonce it was given', async () => {
    const { url } = await startServer({
      clients: [{ client_id: 'svc', client_secret: SECRET, scope: 'read' }],
      dpop: { nonce: true },
    })
    const as = await discover(url)
    const keyPair = await oauth.generateKeyPair('ES256')
    const DPoP = oauth.DPoP(client, keyPair)
    const first = await tokenRequest(as, oauth.ClientSecretBasic(SECRET), DPoP).then(
      () => undefined,
      (error: unknown) => error,
    )
    expect(oauth.isDPoPNonceError(first)).toBe(true)
    // The handle kept the DPoP-Nonce of the 400; the retry carries it.
    const second = await tokenRequest(as, oauth.ClientSecretBasic(SECRET), DPoP)
    expect(second.token_type).toBe('dpop')
    // And the next request needs no retry.
    const third = await tokenRequest(as, oauth.ClientSecretBasic(SECRET), DPoP)
    expect(decodeJwt(third.access_token).cnf).toEqual({ jkt: await thumbprint(keyPair) })
  })

  it('a Bearer token when oauth4webapi sends no proof and the client may do without', async () => {
    const { url } = await startServer({
      clients: [{ client_id: 'svc', client_secret: SECRET, scope: 'read' }],
    })
    const as = await discover(url)
    const response = await oauth.clientCredentialsGrantRequest(
      as,
      client,
      oauth.ClientSecretBasic(SECRET),
      { scope: 'read' },
      HTTP,
    )
    const answer = await oauth.processClientCredentialsResponse(as, client, response)
    expect(answer.token_type).toBe('bearer')
  })
})
