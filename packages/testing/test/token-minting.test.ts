import { inspect } from 'node:util'
import { clientSecretBasic, clientSecretPost, OAuthResponseError } from '@oauth-m2m/core'
import { encodeBasicCredentials } from '@oauth-m2m/core/internal'
import type { AuthorizationServer } from '@oauth-m2m/server'
import { describe, expect, it } from 'vitest'
import type { TestClientCredentials } from '../src/test-clients.js'
import { requestTestToken } from '../src/token-minting.js'

const SECRET = 'mint-secret-with/+=and spaces-91c2'

function credentials(auth: TestClientCredentials['auth']): TestClientCredentials {
  return {
    clientId: 'minting-client',
    auth,
    issuer: 'http://127.0.0.1:9/',
    tokenEndpoint: 'http://127.0.0.1:9/token',
    authMethod: auth.method as TestClientCredentials['authMethod'],
    registeredScope: 'read',
    clientSecret: SECRET,
    privateKey: undefined,
  }
}

/** A server that answers every request with `answer(request)`: what the reference server will not do. */
function serverAnswering(answer: (request: Request, body: string) => Response): AuthorizationServer {
  return {
    handle: async (request: Request) => answer(request, await request.text()),
  } as unknown as AuthorizationServer
}

describe('requestTestToken', () => {
  it('returns the access token of a 200 answer, sent as a form POST with the client credentials', async () => {
    let seen: { method: string; contentType: string | null; body: string } | undefined
    const server = serverAnswering((request, body) => {
      seen = { method: request.method, contentType: request.headers.get('content-type'), body }
      return Response.json({ access_token: 'minted', token_type: 'Bearer', expires_in: 60 })
    })
    const token = await requestTestToken(server, credentials(clientSecretPost(SECRET)), { scope: ['a', 'b'] })
    expect(token).toBe('minted')
    expect(seen?.method).toBe('POST')
    expect(seen?.contentType).toBe('application/x-www-form-urlencoded')
    const form = new URLSearchParams(seen?.body)
    expect(form.get('grant_type')).toBe('client_credentials')
    expect(form.get('scope')).toBe('a b')
    expect(form.get('client_secret')).toBe(SECRET)
  })

  it.each([
    ['client_secret_basic', clientSecretBasic(SECRET)],
    ['client_secret_post', clientSecretPost(SECRET)],
  ])('scrubs a %s credential a server echoes from the error it throws', async (_method, auth) => {
    const server = serverAnswering((request, body) =>
      Response.json(
        {
          error: 'invalid_client',
          error_description: `wrong credential ${request.headers.get('authorization') ?? ''} ${body} ${SECRET}`,
        },
        { status: 401 },
      ),
    )
    const error = await requestTestToken(server, credentials(auth), {}).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(OAuthResponseError)
    expect((error as OAuthResponseError).error).toBe('invalid_client')
    expect((error as OAuthResponseError).errorDescription).toContain('wrong credential')
    for (const view of [inspect(error, { depth: 10 }), JSON.stringify(error), (error as Error).message]) {
      expect(view).not.toContain(SECRET)
      expect(view).not.toContain(encodeURIComponent(SECRET))
      expect(view).not.toContain(encodeBasicCredentials('minting-client', SECRET).slice('Basic '.length))
    }
  })
})
