import { createTokenClient } from '@oauth-m2m/client'
import { type StartedAuthorizationServer, startAuthorizationServer } from '@oauth-m2m/testing'
import { createVerifier } from '@oauth-m2m/verifier'
import { afterAll, beforeAll, expect, it } from 'vitest'

let authorizationServer: StartedAuthorizationServer

// The real reference server on a free loopback port, with a generated client `test-client`.
beforeAll(async () => {
  authorizationServer = await startAuthorizationServer()
})
afterAll(() => authorizationServer.close())

it('accepts a token the server minted', async () => {
  const { issuer, audience } = authorizationServer
  const verifier = createVerifier({ issuer, audience })
  const principal = await verifier.verify(await authorizationServer.mintToken({ scope: 'read' }))
  expect(principal).toMatchObject({ clientId: 'test-client', scopes: ['read'] })
  await verifier.close()
})

it('gets tokens over HTTP with the client', async () => {
  const client = createTokenClient({ ...authorizationServer.createClient(), scope: 'read' })
  expect((await client.getToken()).scope).toBe('read')
  await client.close()
})
