/**
 * Interop with a registration client no one here wrote: oauth4webapi 3.8.8 discovers the
 * registration endpoint, registers with `dynamicClientRegistrationRequest` (an initial access
 * token as Bearer), reads the answer with `processDynamicClientRegistrationResponse`, and the
 * registered credentials then get a token with `clientCredentialsGrantRequest`, over loopback HTTP.
 */
import { exportJWK } from 'jose'
import * as oauth from 'oauth4webapi'
import { describe, expect, it } from 'vitest'
import { startServer } from './test-server.js'

const IAT = 'initial-access-token-0123456789-abcdefghijklmnop'
const HTTP = { [oauth.allowInsecureRequests]: true } as const

async function discover(url: string): Promise<oauth.AuthorizationServer> {
  const issuer = new URL(url)
  return oauth.processDiscoveryResponse(
    issuer,
    await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...HTTP }),
  )
}

function startRegistering() {
  return startServer({
    clients: [{ client_id: 'seed', client_secret: 'seed-secret', scope: 'read write' }],
    registration: { initialAccessTokens: [IAT] },
  })
}

describe('oauth4webapi dynamic client registration against the reference server', () => {
  it('registers a client_secret_basic client whose credentials then get a token', async () => {
    const { url } = await startRegistering()
    const as = await discover(url)
    expect(as.registration_endpoint).toBe(`${url}/register`)

    const response = await oauth.dynamicClientRegistrationRequest(
      as,
      { scope: 'read', client_name: 'interop' },
      { initialAccessToken: IAT, ...HTTP },
    )
    const client = await oauth.processDynamicClientRegistrationResponse(response)

    expect(client.client_name).toBe('interop')
    expect(client.token_endpoint_auth_method).toBe('client_secret_basic')
    const secret = client.client_secret as string
    const token = await oauth.processClientCredentialsResponse(
      as,
      client,
      await oauth.clientCredentialsGrantRequest(
        as,
        client,
        oauth.ClientSecretBasic(secret),
        { scope: 'read' },
        HTTP,
      ),
    )
    expect(token.scope).toBe('read')
  })

  it('registers a private_key_jwt client whose assertions (signed by oauth4webapi) get a token', async () => {
    const { url } = await startRegistering()
    const as = await discover(url)
    const keyPair = await oauth.generateKeyPair('ES256')
    const jwk = { ...(await exportJWK(keyPair.publicKey)), kid: 'k1', alg: 'ES256' }

    const client = await oauth.processDynamicClientRegistrationResponse(
      await oauth.dynamicClientRegistrationRequest(
        as,
        { token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [jwk] }, scope: 'write' },
        { initialAccessToken: IAT, ...HTTP },
      ),
    )

    expect(client.client_secret).toBeUndefined()
    const auth = oauth.PrivateKeyJwt({ key: keyPair.privateKey, kid: 'k1' })
    const token = await oauth.processClientCredentialsResponse(
      as,
      client,
      await oauth.clientCredentialsGrantRequest(as, client, auth, {}, HTTP),
    )
    expect(token.scope).toBe('write')
  })

  it('surfaces refusals as oauth4webapi errors: a Bearer challenge for a wrong token, the body error for bad metadata', async () => {
    const { url } = await startRegistering()
    const as = await discover(url)

    const wrongToken = oauth.processDynamicClientRegistrationResponse(
      await oauth.dynamicClientRegistrationRequest(
        as,
        { scope: 'read' },
        { initialAccessToken: `${IAT}x`, ...HTTP },
      ),
    )
    await expect(wrongToken).rejects.toBeInstanceOf(oauth.WWWAuthenticateChallengeError)
    await wrongToken.catch((error: oauth.WWWAuthenticateChallengeError) => {
      expect(error.cause[0]?.scheme).toBe('bearer')
      expect(error.cause[0]?.parameters.error).toBe('invalid_token')
    })

    const badMetadata = oauth.processDynamicClientRegistrationResponse(
      await oauth.dynamicClientRegistrationRequest(
        as,
        { token_endpoint_auth_method: 'client_secret_jwt' },
        { initialAccessToken: IAT, ...HTTP },
      ),
    )
    await expect(badMetadata).rejects.toMatchObject({ error: 'invalid_client_metadata', status: 400 })
  })
})
