/**
 * private_key_jwt (RFC 7523): the client proves who it is by signing a short-lived assertion with
 * its private key. The authorization server only ever holds the PUBLIC key, so there is no
 * shared secret to leak from its database, and a key can be rotated by registering a new one.
 *
 * Run: pnpm --filter @oauth-m2m/example-private-key-jwt start
 * Against your own server: ISSUER, CLIENT_ID and PRIVATE_KEY_JWK (the private JWK as JSON,
 * whose public half is registered for the client).
 */
import { pathToFileURL } from 'node:url'
import { createTokenClient, OAuthResponseError, privateKeyJwt } from '@oauth-m2m/client'
import { exportJWK, generateKeyPair, type JWK } from 'jose'
import { checkAccessToken, register } from './local-setup.js'

/** What the run observed. */
export interface Outcome {
  /** `client_id` of the token the registered key obtained, as the token's signature vouches. */
  tokenClientId: unknown
  /** The `error` the server answered to a key it does not know. */
  unknownKeyError: string | undefined
}

/** A new ES256 key pair as JWKs: the private one stays with the client, the public one is registered. */
async function newKeyPair(kid: string): Promise<{ privateJwk: JWK; publicJwk: JWK }> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true })
  return {
    privateJwk: { ...(await exportJWK(privateKey)), kid, alg: 'ES256' },
    publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' },
  }
}

export async function main(log: (line: string) => void = () => {}): Promise<Outcome> {
  // Done once, when the client is set up: generate the key pair, keep the private JWK as a
  // secret of the service, and register the public JWK (RFC 7591 client metadata).
  const keyPair = await newKeyPair('ledger-2026-01')
  const { issuer, clientId, privateJwk, close } = await register(
    {
      client_id: 'ledger-service',
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [keyPair.publicJwk] }, // the public key only: no "d"
      scope: 'ledger:read',
    },
    keyPair.privateJwk,
  )
  log(`registered ${clientId} with public key ${privateJwk.kid} at ${issuer}`)

  // What the service does on every start: build the client from its private key.
  const client = createTokenClient({
    issuer,
    clientId,
    auth: privateKeyJwt(privateJwk), // alg and kid come from the JWK
    scope: 'ledger:read',
  })

  // A key the server has never seen: the assertion's signature cannot be checked, so it is refused.
  const { privateJwk: unregistered } = await newKeyPair('not-registered')
  const impostor = createTokenClient({ issuer: issuer, clientId, auth: privateKeyJwt(unregistered) })

  try {
    const token = await client.getToken()
    const claims = await checkAccessToken(issuer, token.accessToken)
    log(`registered key: got a token for client_id ${claims.client_id}, scope "${token.scope}"`)

    let unknownKeyError: string | undefined
    try {
      await impostor.getToken()
    } catch (error) {
      if (!(error instanceof OAuthResponseError)) throw error
      unknownKeyError = error.error
    }
    log(`unregistered key: refused with ${unknownKeyError}`)
    return { tokenClientId: claims.client_id, unknownKeyError }
  } finally {
    await Promise.all([client.close(), impostor.close()])
    await close()
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(console.log).catch((error: unknown) => {
    console.error(error)
    process.exitCode = 1
  })
}
