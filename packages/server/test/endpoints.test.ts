import { randomUUID } from 'node:crypto'
import { ConfigurationError, JWT_BEARER_ASSERTION_TYPE } from '@oauth-m2m/core'
import { type AuthorizationServerConfig, createAuthorizationServer } from '@oauth-m2m/server'
import { SignJWT } from 'jose'
import { describe, expect, it } from 'vitest'
import { basic, postForm, send, startServer } from './test-server.js'

const ISSUER = 'https://login.example.test/tenant-1/v2.0'
const endpoints = {
  // On another host than the issuer, as Cognito's token endpoint is: routed by its path.
  token: 'https://auth.example.test/oauth2/v2.0/token',
  jwks: 'https://login.example.test/tenant-1/discovery/v2.0/keys',
  introspection: 'https://login.example.test/tenant-1/oauth2/introspect',
  revocation: 'https://login.example.test/tenant-1/oauth2/revoke',
  metadata: ['https://login.example.test/tenant-1/v2.0/.well-known/openid-configuration'],
}
const SECRET = 'jwt-client-secret-of-at-least-32-bytes!'

async function server() {
  return startServer({
    issuer: ISSUER,
    endpoints,
    clients: [
      { client_id: 'svc', client_secret: 'svc-secret', scope: 'read' },
      { client_id: 'jwt-svc', client_secret: SECRET, token_endpoint_auth_method: 'client_secret_jwt' },
    ],
  })
}

/** The request path of a URL, sent to the listener. */
const at = (url: string, endpoint: string) => `${url}${new URL(endpoint).pathname}`

describe('endpoints', () => {
  it('puts the configured URLs in the metadata, served at the RFC 8414 path and the extra ones', async () => {
    const { url, server: as } = await server()
    const standard = await send(`${url}/.well-known/oauth-authorization-server/tenant-1/v2.0`)
    expect(standard.status).toBe(200)
    expect(standard.json).toMatchObject({
      issuer: ISSUER,
      token_endpoint: endpoints.token,
      jwks_uri: endpoints.jwks,
      introspection_endpoint: endpoints.introspection,
      revocation_endpoint: endpoints.revocation,
    })
    expect(as.metadata).toEqual(standard.json)
    const extra = await send(at(url, endpoints.metadata[0]!))
    expect(extra.status).toBe(200)
    expect(extra.json).toEqual(standard.json)
  })

  it('routes token, jwks, introspection and revocation by the configured paths; the defaults are gone', async () => {
    const { url } = await server()
    const token = await postForm(
      at(url, endpoints.token),
      { grant_type: 'client_credentials' },
      basic('svc', 'svc-secret'),
    )
    expect(token.status).toBe(200)
    const accessToken = token.json.access_token as string
    const jwks = await send(at(url, endpoints.jwks))
    expect(jwks.json.keys.length).toBeGreaterThan(0)
    const introspection = await postForm(
      at(url, endpoints.introspection),
      { token: accessToken },
      basic('svc', 'svc-secret'),
    )
    expect(introspection.json).toMatchObject({ active: true, iss: ISSUER })
    const revocation = await postForm(
      at(url, endpoints.revocation),
      { token: accessToken },
      basic('svc', 'svc-secret'),
    )
    expect(revocation.status).toBe(200)
    const after = await postForm(
      at(url, endpoints.introspection),
      { token: accessToken },
      basic('svc', 'svc-secret'),
    )
    expect(after.json).toEqual({ active: false })
    for (const path of ['/tenant-1/v2.0/token', '/tenant-1/v2.0/jwks', '/tenant-1/v2.0/introspect']) {
      expect((await send(`${url}${path}`, { method: 'POST' })).status).toBe(404)
    }
  })

  it('accepts a client assertion whose aud is the configured token endpoint URL', async () => {
    const { url } = await server()
    const assertion = (aud: string) =>
      new SignJWT({})
        .setProtectedHeader({ alg: 'HS256' })
        .setIssuer('jwt-svc')
        .setSubject('jwt-svc')
        .setAudience(aud)
        .setJti(randomUUID())
        .setExpirationTime('1m')
        .sign(new TextEncoder().encode(SECRET))
    const request = async (aud: string) =>
      postForm(at(url, endpoints.token), {
        grant_type: 'client_credentials',
        client_assertion_type: JWT_BEARER_ASSERTION_TYPE,
        client_assertion: await assertion(aud),
      })
    expect((await request(endpoints.token)).status).toBe(200)
    // The default location is no endpoint of this server any more.
    expect((await request(`${ISSUER}/token`)).json.error).toBe('invalid_client')
  })

  it('routes by path through handle() whatever the request host', async () => {
    const as = await createAuthorizationServer({ issuer: ISSUER, endpoints, clients: [] })
    const answer = await as.handle(new Request(endpoints.jwks))
    expect(answer.status).toBe(200)
    const elsewhere = await as.handle(
      new Request(`http://127.0.0.1:9${new URL(endpoints.metadata[0]!).pathname}`),
    )
    expect(((await elsewhere.json()) as { issuer: string }).issuer).toBe(ISSUER)
  })

  async function refusal(config: Partial<AuthorizationServerConfig>): Promise<string> {
    const error = await createAuthorizationServer({ clients: [], ...config }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ConfigurationError)
    return (error as ConfigurationError).message
  }

  it.each([
    ['a relative URL', { token: '/token' }, 'endpoints.token must be an absolute URL'],
    ['a non-http URL', { jwks: 'ftp://x.test/keys' }, 'endpoints.jwks must be an http or https URL'],
    ['a query', { introspection: 'https://x.test/i?a=1' }, 'endpoints.introspection must not have a query'],
    [
      'a fragment',
      { revocation: 'https://x.test/r#x' },
      'endpoints.revocation must not have a query or fragment',
    ],
    ['metadata that is not a list', { metadata: 'https://x.test/m' }, 'endpoints.metadata must be an array'],
    ['a bad metadata URL', { metadata: ['nope'] }, 'endpoints.metadata[0] must be an absolute URL'],
    ['an unknown endpoint', { authorize: 'https://x.test/a' }, 'endpoints.authorize is not a known option'],
    [
      'two endpoints on one path',
      { token: 'https://a.test/oauth/x', jwks: 'https://b.test/oauth/x' },
      'endpoints gives the token and jwks endpoints one path (/oauth/x)',
    ],
    [
      'an endpoint on a default path of another',
      { token: 'https://as.example.test/jwks' },
      'endpoints gives the token and jwks endpoints one path (/jwks)',
    ],
  ])('refuses %s with a message naming the field', async (_, value, message) => {
    expect(await refusal({ issuer: 'https://as.example.test', endpoints: value as never })).toContain(message)
  })
})
