/**
 * `@oauth-m2m/testing` as its README shows it, with the real client and verifier: credentials
 * spread into `createTokenClient`, minted tokens a verifier accepts, and the in-process server
 * behind msw through the undici bridge.
 */
import { createTokenClient } from '@oauth-m2m/client'
import { createTestAuthorizationServer, startAuthorizationServer } from '@oauth-m2m/testing'
import { authorizationServerHandlers, createMswDispatcher } from '@oauth-m2m/testing/msw'
import { createVerifier } from '@oauth-m2m/verifier'
import { HttpResponse, http } from 'msw'
import { expect, it } from 'vitest'

it('gives a real-port server whose client credentials and minted tokens work with the client and verifier', async () => {
  const as = await startAuthorizationServer({
    clients: [{ client_id: 'keyed', token_endpoint_auth_method: 'private_key_jwt', scope: 'read' }],
  })
  const verifier = createVerifier({ issuer: as.issuer, audience: as.audience })
  const client = createTokenClient({ ...as.createClient('keyed') })
  try {
    const fromClient = await verifier.verify((await client.getToken()).accessToken, {
      requiredScopes: ['read'],
    })
    expect(fromClient).toMatchObject({ clientId: 'keyed', scopes: ['read'], source: 'jwt' })

    const minted = await verifier.verify(await as.mintToken({ scope: 'write' }))
    expect(minted).toMatchObject({ clientId: 'test-client', subject: 'test-client', scopes: ['write'] })
  } finally {
    await client.close()
    await verifier.close()
    await as.close()
  }
})

it('serves the client and the verifier in process through msw, with no port', async () => {
  const as = await createTestAuthorizationServer()
  const dispatcher = createMswDispatcher([
    ...authorizationServerHandlers(as),
    http.get('https://api.example.test/things', ({ request }) =>
      HttpResponse.json({ authorized: request.headers.get('authorization')?.startsWith('Bearer ') }),
    ),
  ])
  const client = createTokenClient({ ...as.createClient(), resource: as.audience, dispatcher })
  const verifier = createVerifier({ issuer: as.issuer, audience: as.audience, dispatcher })
  try {
    const response = await client.fetch('https://api.example.test/things')
    expect(await response.json()).toEqual({ authorized: true })
    const principal = await verifier.verify((await client.getToken()).accessToken)
    expect(principal).toMatchObject({ clientId: 'test-client', scopes: ['read', 'write'], issuer: as.issuer })
  } finally {
    await client.close()
    await verifier.close()
    await dispatcher.close()
    await as.close()
  }
})
