import { generateKeyPairSync } from 'node:crypto'
import { ConfigurationError, discover, JwksCache, NetworkError, OAuthResponseError } from '@oauth-m2m/core'
import { requestJson } from '@oauth-m2m/core/internal'
import {
  DEFAULT_TEST_AUDIENCE,
  DEFAULT_TEST_CLIENT_ID,
  type StartedAuthorizationServer,
  startAuthorizationServer,
  type TestClientCredentials,
} from '@oauth-m2m/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const API = 'https://orders.example.test'
const OPAQUE_API = 'https://billing.example.test'

/** A client_credentials request over real HTTP, authenticated the way createTokenClient would. */
async function tokenOverHttp(client: TestClientCredentials, scope?: string, resource?: string) {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' }
  const body = new URLSearchParams({ grant_type: 'client_credentials' })
  if (scope) body.set('scope', scope)
  if (resource) body.set('resource', resource)
  await client.auth.apply(
    { headers, body },
    { clientId: client.clientId, endpoint: client.tokenEndpoint, tokenEndpoint: client.tokenEndpoint },
  )
  return requestJson(client.tokenEndpoint, { method: 'POST', headers, body: body.toString() })
}

function captureError(action: () => unknown): unknown {
  try {
    action()
  } catch (error) {
    return error
  }
  throw new Error('expected an error, but nothing was thrown')
}

function jwtParts(token: string): { header: Record<string, unknown>; payload: Record<string, unknown> } {
  const [header, payload] = token.split('.')
  return {
    header: JSON.parse(Buffer.from(header ?? '', 'base64url').toString()),
    payload: JSON.parse(Buffer.from(payload ?? '', 'base64url').toString()),
  }
}

describe('startAuthorizationServer', () => {
  let as: StartedAuthorizationServer

  beforeAll(async () => {
    as = await startAuthorizationServer({
      clients: [
        { client_id: 'post-client', token_endpoint_auth_method: 'client_secret_post', scope: 'read' },
        { client_id: 'hmac-client', token_endpoint_auth_method: 'client_secret_jwt', scope: 'read' },
        { client_id: 'key-client', token_endpoint_auth_method: 'private_key_jwt', scope: 'read admin' },
        { client_id: 'fixed-secret', client_secret: 'chosen-by-the-test', scope: 'read' },
        { client_id: 'rs', scope: '' },
      ],
      resources: [{ resource: API }, { resource: OPAQUE_API, tokenFormat: 'opaque' }],
    })
  })
  afterAll(() => as.close())

  it('listens on a loopback port and is its own issuer, as discovery reports', async () => {
    expect(as.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(as.issuer).toBe(as.url)
    expect(as.tokenEndpoint).toBe(`${as.url}/token`)
    const metadata = await discover(as.issuer)
    expect(metadata.issuer).toBe(as.issuer)
    expect(metadata.token_endpoint).toBe(as.tokenEndpoint)
  })

  it('registers a default client and lists every client id, the default first', () => {
    expect(as.clientIds).toEqual([
      DEFAULT_TEST_CLIENT_ID,
      'post-client',
      'hmac-client',
      'key-client',
      'fixed-secret',
      'rs',
    ])
    const client = as.createClient()
    expect(client).toMatchObject({
      clientId: DEFAULT_TEST_CLIENT_ID,
      authMethod: 'client_secret_basic',
      registeredScope: 'read write',
      issuer: as.issuer,
      tokenEndpoint: as.tokenEndpoint,
      privateKey: undefined,
    })
    expect(client.clientSecret).toMatch(/^[A-Za-z0-9_-]{43}$/)
  })

  it.each([DEFAULT_TEST_CLIENT_ID, 'post-client', 'hmac-client', 'key-client', 'fixed-secret'])(
    'gives credentials of %s that the token endpoint accepts over HTTP',
    async (clientId) => {
      const client = as.createClient(clientId)
      const answer = await tokenOverHttp(client, 'read')
      expect(answer.status).toBe(200)
      expect(answer.body).toMatchObject({ token_type: 'Bearer', scope: 'read' })
    },
  )

  it('keeps a secret the test chose, and generates a key pair for private_key_jwt', () => {
    expect(as.createClient('fixed-secret').clientSecret).toBe('chosen-by-the-test')
    const keyClient = as.createClient('key-client')
    expect(keyClient.clientSecret).toBeUndefined()
    expect(keyClient.privateKey).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256' })
    expect(keyClient.privateKey?.d).toEqual(expect.any(String))
  })

  it('returns the same credentials each time it is asked', () => {
    expect(as.createClient('post-client')).toBe(as.createClient('post-client'))
  })

  it('registers a client it does not know yet on the running server, usable at once', async () => {
    const late = as.createClient('late-client')

    expect(late).toMatchObject({
      clientId: 'late-client',
      authMethod: 'client_secret_basic',
      registeredScope: 'read write',
    })
    expect(late.clientSecret).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(as.clientIds).toContain('late-client')
    expect(as.server.getClient('late-client')).toMatchObject({ scope: 'read write' })
    const answer = await tokenOverHttp(late, 'write')
    expect(answer.status).toBe(200)
    expect(answer.body).toMatchObject({ scope: 'write' })
    expect(as.createClient('late-client')).toBe(late)
  })

  it('registers a new client with the metadata given, generating a key pair for private_key_jwt', async () => {
    const signer = as.createClient('late-signer', {
      token_endpoint_auth_method: 'private_key_jwt',
      scope: 'admin',
      resources: [API],
    })

    expect(signer).toMatchObject({
      authMethod: 'private_key_jwt',
      registeredScope: 'admin',
      clientSecret: undefined,
    })
    expect(signer.privateKey).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256' })
    expect(as.server.getClient('late-signer')?.jwks?.keys[0]?.d).toBeUndefined()
    // held to its own resource, it must name it (the default audience is not one of its own)
    expect(await tokenOverHttp(signer)).toMatchObject({ status: 400, body: { error: 'invalid_target' } })
    const answer = await tokenOverHttp(signer, undefined, API)
    expect(answer.status).toBe(200)
    expect(answer.body).toMatchObject({ scope: 'admin' })
    const token = await as.mintToken({ clientId: 'late-signer', resource: API })
    expect(jwtParts(token).payload).toMatchObject({ client_id: 'late-signer', aud: API })
  })

  it('refuses invalid metadata for a new client, naming the member, and registers nothing', () => {
    const error = captureError(() => as.createClient('bad-scope', { scope: 'line\nbreak' }))

    expect(error).toBeInstanceOf(ConfigurationError)
    expect((error as Error).message).toContain('scope')
    expect(as.server.getClient('bad-scope')).toBeUndefined()
    expect(as.clientIds).not.toContain('bad-scope')
  })

  it('refuses metadata for a client that is already registered, and metadata without an id', () => {
    expect(() => as.createClient('post-client', { scope: 'admin' })).toThrow(/already registered/)
    expect(() => as.createClient(undefined, { scope: 'admin' })).toThrow(ConfigurationError)
    expect(as.createClient('post-client').registeredScope).toBe('read')
  })

  it('cannot act as a client registered directly on the server', () => {
    as.server.registerClient({ client_id: 'direct', client_secret: 'only-the-test-knows' })

    expect(() => as.createClient('direct')).toThrow(/registered directly on the server/)
  })

  it('mints a JWT for the default client with its full scope and the default audience, signed with a published key', async () => {
    const token = await as.mintToken()
    const { header, payload } = jwtParts(token)
    expect(header.typ).toBe('at+jwt')
    expect(payload).toMatchObject({
      iss: as.issuer,
      sub: DEFAULT_TEST_CLIENT_ID,
      client_id: DEFAULT_TEST_CLIENT_ID,
      aud: DEFAULT_TEST_AUDIENCE,
      scope: 'read write',
    })
    expect(as.audience).toBe(DEFAULT_TEST_AUDIENCE)
    const jwks = new JwksCache(`${as.issuer}/jwks`)
    const key = await jwks.getKey({ kid: header.kid as string, alg: header.alg as string })
    expect(key.kid).toBe(header.kid)
  })

  it('mints for another client, a narrower scope and a resource', async () => {
    const token = await as.mintToken({ clientId: 'key-client', scope: ['admin'], resource: API })
    expect(jwtParts(token).payload).toMatchObject({
      sub: 'key-client',
      client_id: 'key-client',
      scope: 'admin',
      aud: API,
    })
  })

  it('mints opaque tokens for an opaque resource, which the server introspects as active', async () => {
    const token = await as.mintToken({ resource: OPAQUE_API, scope: 'read' })
    expect(token.split('.')).toHaveLength(1)
    const rs = as.createClient('rs')
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' }
    const body = new URLSearchParams({ token })
    const endpoint = `${as.issuer}/introspect`
    await rs.auth.apply({ headers, body }, { clientId: rs.clientId, endpoint })
    const answer = await requestJson(endpoint, { method: 'POST', headers, body: body.toString() })
    expect(answer.body).toMatchObject({
      active: true,
      client_id: DEFAULT_TEST_CLIENT_ID,
      aud: OPAQUE_API,
      scope: 'read',
    })
  })

  it('registers the default audience as a resource, so that a client may name it', async () => {
    const token = await as.mintToken({ resource: as.audience })
    expect(jwtParts(token).payload.aud).toBe(DEFAULT_TEST_AUDIENCE)
  })

  it('reports a refusal of the token endpoint as an OAuthResponseError', async () => {
    const refusal = as.mintToken({ clientId: 'post-client', scope: 'admin' })
    await expect(refusal).rejects.toBeInstanceOf(OAuthResponseError)
    await expect(refusal).rejects.toMatchObject({ error: 'invalid_scope', status: 400 })
  })
})

describe('startAuthorizationServer options', () => {
  it('replaces the default client, or registers none', async () => {
    const custom = await startAuthorizationServer({ defaultClient: { scope: 'things:read' } })
    const none = await startAuthorizationServer({
      defaultClient: false,
      clients: [{ client_id: 'only', scope: 'x' }],
    })
    try {
      expect(custom.createClient().registeredScope).toBe('things:read')
      expect(none.clientIds).toEqual(['only'])
      expect(none.createClient().clientId).toBe('only')
    } finally {
      await Promise.all([custom.close(), none.close()])
    }
  })

  it('makes a listed client with the default id the default client', async () => {
    const as = await startAuthorizationServer({
      clients: [
        { client_id: 'other', scope: 'x' },
        { client_id: 'test-client', token_endpoint_auth_method: 'client_secret_post', scope: 'y' },
      ],
    })
    try {
      expect(as.clientIds).toEqual(['test-client', 'other'])
      expect(as.createClient()).toMatchObject({ authMethod: 'client_secret_post', registeredScope: 'y' })
    } finally {
      await as.close()
    }
  })

  it('cannot act as a private_key_jwt client whose keys the test registered itself', async () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const as = await startAuthorizationServer({
      clients: [
        {
          client_id: 'own-keys',
          token_endpoint_auth_method: 'private_key_jwt',
          jwks: { keys: [publicKey.export({ format: 'jwk' })] },
        },
      ],
    })
    try {
      expect(() => as.createClient('own-keys')).toThrow(/own jwks/)
    } finally {
      await as.close()
    }
  })

  it('refuses a client id listed twice and an invalid server option, naming it', async () => {
    await expect(
      startAuthorizationServer({ clients: [{ client_id: 'a' }, { client_id: 'a' }] }),
    ).rejects.toThrow(/"a" is listed twice/)
    await expect(startAuthorizationServer({ accessTokenLifetimeSec: -1 })).rejects.toThrow(
      /accessTokenLifetimeSec/,
    )
  })

  it('binds loopback addresses only, any of 127.0.0.0/8 among them', async () => {
    for (const host of ['0.0.0.0', '10.0.0.1', '127.0.0.1.example.com', '::']) {
      await expect(startAuthorizationServer({ host }), host).rejects.toBeInstanceOf(ConfigurationError)
    }
    const as = await startAuthorizationServer({ host: '127.0.0.2' })
    try {
      expect(as.url).toMatch(/^http:\/\/127\.0\.0\.2:\d+$/)
      expect((await requestJson(`${as.url}/jwks`)).status).toBe(200)
    } finally {
      await as.close()
    }
  })

  it('stops answering once closed', async () => {
    const as = await startAuthorizationServer()
    await as.close()
    await expect(requestJson(`${as.url}/jwks`, { timeoutMs: 2000 })).rejects.toBeInstanceOf(NetworkError)
  })
})

describe('startAuthorizationServer with a clock of the test (now)', () => {
  it("issues tokens, and judges them at introspection, at the test's time", async () => {
    let clockMs = Date.parse('2030-01-01T00:00:00Z')
    const as = await startAuthorizationServer({
      now: () => clockMs,
      resources: [{ resource: OPAQUE_API, tokenFormat: 'opaque', accessTokenLifetimeSec: 60 }],
    })
    try {
      const { payload } = jwtParts(await as.mintToken())
      expect(payload.iat).toBe(clockMs / 1000)
      const opaque = await as.mintToken({ resource: OPAQUE_API })
      const rs = as.createClient('introspecting-rs', { scope: '' })
      const introspect = async () => {
        const form = new URLSearchParams({ token: opaque })
        const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' }
        await rs.auth.apply(
          { headers, body: form },
          { clientId: rs.clientId, endpoint: `${as.issuer}/introspect` },
        )
        return (
          await requestJson(`${as.issuer}/introspect`, { method: 'POST', headers, body: form.toString() })
        ).body
      }
      expect(await introspect()).toMatchObject({ active: true })
      clockMs += 61_000
      expect(await introspect()).toEqual({ active: false })
    } finally {
      await as.close()
    }
  })
})
