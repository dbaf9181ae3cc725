import { inspect } from 'node:util'
import { ConfigurationError, clientSecretBasic, clientSecretPost, OAuthResponseError } from '@oauth-m2m/core'
import { encodeBasicCredentials } from '@oauth-m2m/core/internal'
import type { AuthorizationServer } from '@oauth-m2m/server'
import { type StartedAuthorizationServer, startAuthorizationServer } from '@oauth-m2m/testing'
import { createVerifier, type Verifier } from '@oauth-m2m/verifier'
import { decodeJwt, decodeProtectedHeader } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
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

describe('mintToken shaping', () => {
  const OPAQUE_API = 'https://opaque.example.test'
  let as: StartedAuthorizationServer
  let verifier: Verifier

  beforeAll(async () => {
    as = await startAuthorizationServer({
      resources: [{ resource: OPAQUE_API, tokenFormat: 'opaque' }],
      clients: [{ client_id: 'rs', client_secret: 'rs-secret-0123456789' }],
    })
    verifier = createVerifier({
      issuer: as.issuer,
      audience: [as.audience, OPAQUE_API],
      introspection: { clientId: 'rs', auth: clientSecretBasic('rs-secret-0123456789') },
    })
  })
  afterAll(async () => {
    await verifier?.close()
    await as?.close()
  })

  it('without shaping options is the token endpoint answer, as before', async () => {
    const claims = decodeJwt(await as.mintToken({ scope: 'read' }))
    expect(Object.keys(claims).sort()).toEqual([
      'aud',
      'client_id',
      'exp',
      'iat',
      'iss',
      'jti',
      'scope',
      'sub',
    ])
  })

  it('keeps every claim the endpoint gives and overrides what it is told; the verifier sees the overrides', async () => {
    const token = await as.mintToken({
      scope: 'read',
      claims: { scope: 'read admin', tenant: 't-1', client_id: 'impersonated' },
    })
    const claims = decodeJwt(token)
    expect(claims).toMatchObject({ iss: as.issuer, sub: 'test-client', aud: as.audience, tenant: 't-1' })
    expect(claims.exp! - claims.iat!).toBe(3600)
    expect(typeof claims.jti).toBe('string')
    const principal = await verifier.verify(token)
    expect(principal.scopes).toEqual(['read', 'admin'])
    expect(principal.clientId).toBe('impersonated')
    expect(principal.claims.tenant).toBe('t-1')
  })

  it('removes a claim given as undefined, and takes header members (typ, kid) with the real key', async () => {
    const token = await as.mintToken({ claims: { scope: undefined }, header: { typ: 'application/at+jwt' } })
    expect(decodeJwt(token)).not.toHaveProperty('scope')
    expect(decodeProtectedHeader(token).typ).toBe('application/at+jwt')
    expect((await verifier.verify(token)).scopes).toEqual([])
    const wrongKid = await as.mintToken({ header: { kid: 'not-published' } })
    expect(decodeProtectedHeader(wrongKid).kid).toBe('not-published')
    await expect(verifier.verify(wrongKid)).rejects.toThrow(/no key of the issuer matches/)
  })

  it('sets any lifetime: already expired, not yet valid, issued at a given time', async () => {
    await expect(verifier.verify(await as.mintToken({ expiresInSec: -120 }))).rejects.toThrow(/has expired/)
    await expect(verifier.verify(await as.mintToken({ notBeforeSec: 600 }))).rejects.toThrow(/not valid yet/)
    const issuedAt = new Date(Date.now() - 30 * 60_000)
    const token = await as.mintToken({ issuedAt, expiresInSec: 3600, notBeforeSec: 0 })
    const claims = decodeJwt(token)
    expect(claims.iat).toBe(Math.floor(issuedAt.getTime() / 1000))
    expect(claims.exp).toBe(claims.iat! + 3600)
    expect(claims.nbf).toBe(claims.iat)
    await expect(verifier.verify(token)).resolves.toMatchObject({ clientId: 'test-client' })
    // issuedAt alone moves exp with iat: an hour-long token issued two hours ago has expired.
    const old = decodeJwt(await as.mintToken({ issuedAt: Date.now() - 2 * 3_600_000 }))
    expect(old.exp! - old.iat!).toBe(3600)
    expect(old.exp! * 1000).toBeLessThan(Date.now())
  })

  it('stores a shaped opaque token that introspection answers, for an opaque resource', async () => {
    const token = await as.mintToken({ resource: OPAQUE_API, claims: { tenant: 't-2' } })
    expect(token).not.toContain('.')
    const principal = await verifier.verify(token)
    expect(principal.source).toBe('introspection')
    expect(principal.claims).toMatchObject({ tenant: 't-2', client_id: 'test-client', aud: OPAQUE_API })
    const expired = await as.mintToken({ resource: OPAQUE_API, expiresInSec: -60 })
    await expect(verifier.verify(expired)).rejects.toThrow(/not active|expired/)
  })

  it.each([
    ['expiresInSec', { expiresInSec: 1.5 }],
    ['notBeforeSec', { notBeforeSec: '60' }],
    ['issuedAt', { issuedAt: new Date('nonsense') }],
    ['claims', { claims: 5 }],
    ['claims', { claims: ['a'] }],
    ['claims', { claims: null }],
    ['claims.x', { claims: { x: 10n } }],
    ['claims.nested.n', { claims: { nested: { n: Number.NaN } } }],
    ['claims.when', { claims: { when: new Date(0) } }],
    ['claims.list[1]', { claims: { list: [1, () => 2] } }],
    ['header', { header: 'x' }],
    ['header.kid', { header: { kid: Symbol('k') } }],
    ['header.x5c[0]', { header: { x5c: [Number.POSITIVE_INFINITY] } }],
  ])('refuses a wrong %s with a ConfigurationError naming it', async (name, options) => {
    const error = await as.mintToken(options as never).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ConfigurationError)
    expect((error as Error).message).toContain(name)
  })

  it('refuses claims that refer to themselves', async () => {
    const claims: Record<string, unknown> = {}
    claims.self = claims
    const error = await as.mintToken({ claims }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ConfigurationError)
    expect((error as Error).message).toContain('claims.self')
  })

  it('starts from what the server issues, beforeSign claims included', async () => {
    const hooked = await startAuthorizationServer({ beforeSign: ({ client }) => ({ azp: client.client_id }) })
    try {
      const claims = decodeJwt(await hooked.mintToken({ claims: { extra: true } }))
      expect(claims).toMatchObject({ azp: 'test-client', extra: true, iss: hooked.issuer })
    } finally {
      await hooked.close()
    }
  })
})
