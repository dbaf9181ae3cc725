/**
 * How the `profile` option combines with the test server's other options: what the user sets
 * stays theirs, the user's `beforeSign` sees the provider's claims, and the default profile's
 * `dispatcher` and `verifierOptions()` reach the server too.
 */
import { ConfigurationError } from '@oauth-m2m/core'
import { createTestAuthorizationServer, startAuthorizationServer } from '@oauth-m2m/testing'
import { createVerifier } from '@oauth-m2m/verifier'
import { decodeJwt, decodeProtectedHeader } from 'jose'
import { request } from 'undici'
import { describe, expect, it } from 'vitest'

describe('the profile option', () => {
  it('refuses an issuer beside a provider profile, and an unknown profile', async () => {
    await expect(
      createTestAuthorizationServer({ profile: 'okta', issuer: 'https://as.example' }),
    ).rejects.toThrow(ConfigurationError)
    await expect(createTestAuthorizationServer({ profile: 'pingone' as never })).rejects.toThrow(
      /profile must be one of/,
    )
    await expect(
      createTestAuthorizationServer({ profile: 'okta', issuerOrigin: 'elsewhere' as never }),
    ).rejects.toThrow(/issuerOrigin/)
  })

  it("runs the user's beforeSign after the provider's claims, on top of them", async () => {
    const seen: Record<string, unknown>[] = []
    const as = await createTestAuthorizationServer({
      profile: 'entra',
      beforeSign: ({ claims }) => {
        seen.push({ ...claims })
        return { ver: '2.0-custom', extra: 1, idtyp: undefined }
      },
    })
    try {
      const claims = decodeJwt(await as.mintToken())
      expect(seen[0]).toMatchObject({ ver: '2.0', idtyp: 'app', azp: as.createClient().clientId })
      expect(seen[0]).not.toHaveProperty('client_id')
      expect(claims).toMatchObject({ ver: '2.0-custom', extra: 1, azp: as.createClient().clientId })
      expect(claims).not.toHaveProperty('idtyp')
    } finally {
      await as.close()
    }
  })

  it('keeps what the user set: accessTokenTyp, accessTokenLifetimeSec, defaultClient', async () => {
    const as = await createTestAuthorizationServer({
      profile: 'okta',
      accessTokenTyp: 'at+jwt',
      accessTokenLifetimeSec: 120,
      defaultClient: { client_id: 'my-service', scope: 'orders.read' },
    })
    try {
      const token = await as.mintToken()
      expect(decodeProtectedHeader(token).typ).toBe('at+jwt')
      const claims = decodeJwt(token)
      expect(claims).toMatchObject({ cid: 'my-service', scp: ['orders.read'] })
      expect((claims.exp as number) - (claims.iat as number)).toBe(120)
    } finally {
      await as.close()
    }
  })

  it("gives the default profile a dispatcher and verifier options that reach the server's own URLs", async () => {
    const as = await createTestAuthorizationServer()
    const verifier = createVerifier(as.verifierOptions())
    try {
      expect(as.verifierOptions()).toMatchObject({ issuer: as.issuer, audience: as.audience })
      const keys = await request(as.server.metadata.jwks_uri, { dispatcher: as.dispatcher })
      expect(keys.statusCode).toBe(200)
      await keys.body.dump()
      // The verifier discovers the keys through the same dispatcher.
      const principal = await verifier.verify(await as.mintToken())
      expect(principal).toMatchObject({ clientId: 'test-client', scopes: ['read', 'write'] })
    } finally {
      await verifier.close()
      await as.close()
    }
  })

  it('sends only the provider’s hosts to a started server; its loopback URL works without the dispatcher', async () => {
    const as = await startAuthorizationServer({ profile: 'auth0' })
    try {
      const viaDispatcher = await request(as.server.metadata.jwks_uri, { dispatcher: as.dispatcher })
      expect(viaDispatcher.statusCode).toBe(200)
      await viaDispatcher.body.dump()
      const direct = await request(`${as.url}/.well-known/jwks.json`)
      expect(direct.statusCode).toBe(200)
      expect(((await direct.body.json()) as { keys: unknown[] }).keys.length).toBeGreaterThan(0)
    } finally {
      await as.close()
    }
  })
})
