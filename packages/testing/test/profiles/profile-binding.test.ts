/**
 * How the `profile` option combines with the test server's other options: what the user sets
 * stays theirs, the user's `beforeSign` sees the provider's claims, and the default profile's
 * `dispatcher` and `verifierOptions()` reach the server too.
 */
import { ConfigurationError } from '@oauth-m2m/core'
import { encodeBasicCredentials, requestJson } from '@oauth-m2m/core/internal'
import type { BeforeSignContext } from '@oauth-m2m/server'
import {
  AUTH0_TEST_AUDIENCE,
  createTestAuthorizationServer,
  ENTRA_TEST_API_APP_ID,
  ENTRA_TEST_CLIENT_ID,
  type StartAuthorizationServerOptions,
  startAuthorizationServer,
  type TestAuthorizationServer,
} from '@oauth-m2m/testing'
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

  describe.each([
    ['in process', (options: StartAuthorizationServerOptions) => createTestAuthorizationServer(options)],
    ['on a port', (options: StartAuthorizationServerOptions) => startAuthorizationServer(options)],
  ] as const)("the user's beforeSign, %s", (_where, start) => {
    /** What the user's beforeSign saw of the one token request `body` makes as the default client. */
    async function seenBy(
      options: StartAuthorizationServerOptions,
      body: (as: TestAuthorizationServer) => { type: string; text: string; basic: boolean },
    ): Promise<Pick<BeforeSignContext, 'params' | 'resources'>[]> {
      const seen: Pick<BeforeSignContext, 'params' | 'resources'>[] = []
      const as = await start({
        ...options,
        beforeSign: ({ params, resources }) => {
          seen.push({ params, resources })
          return undefined
        },
      })
      try {
        const { clientId, clientSecret } = as.createClient()
        const { type, text, basic } = body(as)
        const authorization = encodeBasicCredentials(clientId, clientSecret as string)
        const answer = await requestJson(as.tokenEndpoint, {
          method: 'POST',
          headers: { 'content-type': type, ...(basic ? { authorization } : {}) },
          body: text,
          dispatcher: as.dispatcher,
        })
        expect(answer.status).toBe(200)
      } finally {
        await as.close()
      }
      return seen
    }

    it('sees the parameters the client sent, not those the Auth0 rules rewrote', async () => {
      const sent = { grant_type: 'client_credentials', audience: AUTH0_TEST_AUDIENCE, organization: 'org_1' }
      const form = await seenBy({ profile: 'auth0' }, () => ({
        type: 'application/x-www-form-urlencoded',
        text: new URLSearchParams(sent).toString(),
        basic: true,
      }))
      expect(form).toEqual([{ params: sent, resources: [] }])
      const json = await seenBy({ profile: 'auth0' }, () => ({
        type: 'application/json',
        text: JSON.stringify(sent),
        basic: true,
      }))
      expect(json).toEqual([{ params: sent, resources: [] }])
    })

    it('sees the scope the client sent to Entra, without its credentials', async () => {
      const scope = `api://${ENTRA_TEST_API_APP_ID}/.default`
      const options = {
        profile: 'entra',
        defaultClient: { token_endpoint_auth_method: 'client_secret_post' },
      } as const
      const seen = await seenBy(options, (as) => {
        const { clientId, clientSecret } = as.createClient()
        const text = new URLSearchParams({
          grant_type: 'client_credentials',
          scope,
          client_id: clientId,
          client_secret: clientSecret as string,
        }).toString()
        return { type: 'application/x-www-form-urlencoded', text, basic: false }
      })
      expect(seen).toEqual([
        {
          params: { grant_type: 'client_credentials', scope, client_id: ENTRA_TEST_CLIENT_ID },
          resources: [],
        },
      ])
    })
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
