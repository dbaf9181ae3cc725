import { secretDigest } from '@oauth-m2m/server'
import { decodeJwt } from 'jose'
import { describe, expect, it } from 'vitest'
import { basic, expectOAuthError, FORM, postForm, send, startServer } from './test-server.js'

const API = 'https://api.example.com/'
const OTHER_API = 'https://other.example.com/'
const clients = [
  { client_id: 'svc', client_secret: 'svc-secret', scope: 'read write' },
  {
    client_id: 'poster',
    client_secret: 'post-secret',
    token_endpoint_auth_method: 'client_secret_post',
    scope: 'read',
  },
  { client_id: 'public-app', token_endpoint_auth_method: 'none', scope: 'read' },
  {
    client_id: 'code-only',
    client_secret: 'code-secret',
    grant_types: ['authorization_code'],
    scope: 'read',
  },
  { client_id: 'we ird%&+:id', client_secret: 's3 cr%&+:et', scope: 'read' },
  { client_id: 'rotating', client_secret: 'old-secret', client_secrets: ['new-secret'], scope: 'read' },
  { client_id: 'hashed', client_secret_hash: secretDigest('hashed-secret'), scope: 'read' },
  { client_id: 'one-api', client_secret: 'one-secret', scope: 'read', resources: [API] },
  { client_id: 'multi', client_secret: 'multi-secret', scope: 'read', allow_multiple_resources: true },
] as const

async function tokenServer() {
  const { url, server } = await startServer({
    clients: clients.map((c) => ({ ...c })) as never,
    resources: [
      { resource: API },
      { resource: OTHER_API },
      { resource: 'https://opaque.example.com/', tokenFormat: 'opaque' },
    ],
    rateLimit: { maxFailures: 3, windowMs: 60_000 },
  })
  return { url, server, token: `${url}/token` }
}

const grant = { grant_type: 'client_credentials' }

describe('POST /token: success (RFC 6749 §4.4, §5.1)', () => {
  it('issues a Bearer JWT with expires_in and the granted scope, never stored by caches', async () => {
    const { token } = await tokenServer()
    const answer = await postForm(token, grant, basic('svc', 'svc-secret'))
    expect(answer.status).toBe(200)
    expect(Object.keys(answer.json).sort()).toEqual(['access_token', 'expires_in', 'scope', 'token_type'])
    expect(answer.json).toMatchObject({ token_type: 'Bearer', expires_in: 3600, scope: 'read write' })
    expect(answer.headers.get('cache-control')).toBe('no-store')
    expect(answer.headers.get('pragma')).toBe('no-cache')
    expect(answer.headers.get('content-type')).toBe('application/json')
  })

  it('accepts client_secret_post for a client registered for it', async () => {
    const { token } = await tokenServer()
    const answer = await postForm(token, { ...grant, client_id: 'poster', client_secret: 'post-secret' })
    expect(answer.status).toBe(200)
    expect(answer.json.scope).toBe('read')
  })

  it("decodes a Basic id and secret holding ' %&+:' when they are form-urlencoded", async () => {
    const { token } = await tokenServer()
    const answer = await postForm(token, grant, basic('we ird%&+:id', 's3 cr%&+:et'))
    expect(answer.status).toBe(200)
    expect(decodeJwt(answer.json.access_token).client_id).toBe('we ird%&+:id')
  })

  it('accepts every active secret of a client, so a secret can be rotated', async () => {
    const { token } = await tokenServer()
    expect((await postForm(token, grant, basic('rotating', 'old-secret'))).status).toBe(200)
    expect((await postForm(token, grant, basic('rotating', 'new-secret'))).status).toBe(200)
    expectOAuthError(await postForm(token, grant, basic('rotating', 'other')), 401, 'invalid_client')
  })

  it('accepts a secret configured only as its SHA-256 digest', async () => {
    const { token } = await tokenServer()
    expect((await postForm(token, grant, basic('hashed', 'hashed-secret'))).status).toBe(200)
    expectOAuthError(await postForm(token, grant, basic('hashed', 'hashed-secrets')), 401, 'invalid_client')
  })

  it('accepts a charset=utf-8 parameter on the form content type', async () => {
    const { token } = await tokenServer()
    const answer = await postForm(token, 'grant_type=client_credentials', {
      ...basic('svc', 'svc-secret'),
      'content-type': 'application/x-www-form-urlencoded; charset=UTF-8',
    })
    expect(answer.status).toBe(200)
  })
})

describe('POST /token: malformed requests', () => {
  it('answers GET /token with 405 and Allow: POST', async () => {
    const { token } = await tokenServer()
    const answer = expectOAuthError(await send(token), 405, 'invalid_request')
    expect(answer.headers.get('allow')).toBe('POST')
  })

  it.each(['/introspect', '/revoke'])('answers GET %s with 405 and Allow: POST', async (path) => {
    const { url } = await tokenServer()
    const answer = expectOAuthError(
      await send(`${url}${path}`, { headers: basic('svc', 'svc-secret') }),
      405,
      'invalid_request',
    )
    expect(answer.headers.get('allow')).toBe('POST')
  })

  it('refuses a JSON body with 400 invalid_request', async () => {
    const { token } = await tokenServer()
    const answer = await send(token, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...basic('svc', 'svc-secret') },
      body: JSON.stringify(grant),
    })
    expectOAuthError(answer, 400, 'invalid_request')
  })

  it('refuses a form body with a charset other than UTF-8', async () => {
    const { token } = await tokenServer()
    const answer = await postForm(token, 'grant_type=client_credentials', {
      ...basic('svc', 'svc-secret'),
      'content-type': `${FORM}; charset=iso-8859-1`,
    })
    expectOAuthError(answer, 400, 'invalid_request')
  })

  it('refuses an empty body with 400 invalid_request', async () => {
    const { token } = await tokenServer()
    expectOAuthError(await postForm(token, '', basic('svc', 'svc-secret')), 400, 'invalid_request')
  })

  it('refuses a body that is not valid form-urlencoding', async () => {
    const { token } = await tokenServer()
    expectOAuthError(
      await postForm(token, 'grant_type=%zz', basic('svc', 'svc-secret')),
      400,
      'invalid_request',
    )
  })

  it('refuses a grant_type other than client_credentials with unsupported_grant_type', async () => {
    const { token } = await tokenServer()
    const answer = await postForm(token, { grant_type: 'password' }, basic('svc', 'svc-secret'))
    expectOAuthError(answer, 400, 'unsupported_grant_type')
  })

  it('refuses a request without grant_type', async () => {
    const { token } = await tokenServer()
    expectOAuthError(
      await postForm(token, { scope: 'read' }, basic('svc', 'svc-secret')),
      400,
      'invalid_request',
    )
  })

  it('refuses a repeated parameter (RFC 6749 §3.2)', async () => {
    const { token } = await tokenServer()
    const answer = await postForm(token, { ...grant, scope: ['read', 'write'] }, basic('svc', 'svc-secret'))
    expectOAuthError(answer, 400, 'invalid_request')
    expect(answer.json.error_description).toContain('scope')
  })

  it('treats a parameter without a value as omitted (RFC 6749 §3.1)', async () => {
    const { token } = await tokenServer()
    const answer = await postForm(token, 'grant_type=client_credentials&scope=', basic('svc', 'svc-secret'))
    expect(answer.status).toBe(200)
    expect(answer.json.scope).toBe('read write')
  })

  it('answers an unknown path with a 404 JSON error', async () => {
    const { url } = await tokenServer()
    const answer = await send(`${url}/authorize`)
    expect(answer.status).toBe(404)
    expect(answer.json.error).toBe('not_found')
  })

  it('refuses a body over 64 KiB with 413', async () => {
    const { token } = await tokenServer()
    const body = `grant_type=client_credentials&pad=${'a'.repeat(70 * 1024)}`
    expectOAuthError(await postForm(token, body, basic('svc', 'svc-secret')), 413, 'invalid_request')
  })

  it('refuses a streamed body that grows past 64 KiB without a Content-Length', async () => {
    const { token } = await tokenServer()
    const chunk = new TextEncoder().encode(`pad=${'a'.repeat(16 * 1024)}&`)
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 6; i++) controller.enqueue(chunk)
        controller.close()
      },
    })
    const answer = await send(token, {
      method: 'POST',
      headers: { 'content-type': FORM, ...basic('svc', 'svc-secret') },
      body: stream,
      duplex: 'half',
    } as RequestInit)
    expectOAuthError(answer, 413, 'invalid_request')
  })
})

describe('POST /token: client authentication (RFC 6749 §2.3, §5.2)', () => {
  it('refuses a request without credentials with 401 invalid_client', async () => {
    const { token } = await tokenServer()
    const answer = expectOAuthError(await postForm(token, grant), 401, 'invalid_client')
    expect(answer.headers.get('www-authenticate')).toBeNull()
  })

  it('refuses an unknown client with 401 invalid_client', async () => {
    const { token } = await tokenServer()
    const answer = expectOAuthError(await postForm(token, grant, basic('nobody', 'x')), 401, 'invalid_client')
    expect(answer.headers.get('www-authenticate')).toBe('Basic realm="oauth-m2m", charset="UTF-8"')
  })

  it('answers an unknown client exactly as a known client with a wrong secret (no enumeration)', async () => {
    const { token } = await tokenServer()
    const unknown = await postForm(token, grant, basic('nobody', 'guess'))
    const wrongSecret = await postForm(token, grant, basic('svc', 'guess'))
    expectOAuthError(unknown, 401, 'invalid_client')
    expect(unknown.text).toBe(wrongSecret.text)
    expect(unknown.headers.get('www-authenticate')).toBe(wrongSecret.headers.get('www-authenticate'))
    const unknownPost = await postForm(token, { ...grant, client_id: 'nobody', client_secret: 'guess' })
    const wrongPost = await postForm(token, { ...grant, client_id: 'poster', client_secret: 'guess' })
    expectOAuthError(unknownPost, 401, 'invalid_client')
    expect(unknownPost.text).toBe(wrongPost.text)
  })

  it('answers a wrong secret via Basic with 401 and WWW-Authenticate', async () => {
    const { token } = await tokenServer()
    const answer = expectOAuthError(
      await postForm(token, grant, basic('svc', 'wrong')),
      401,
      'invalid_client',
    )
    expect(answer.headers.get('www-authenticate')).toMatch(/^Basic realm="/)
    expect(answer.text).not.toContain('wrong')
  })

  it('answers a wrong secret via the body with 401 and no WWW-Authenticate', async () => {
    const { token } = await tokenServer()
    const answer = await postForm(token, { ...grant, client_id: 'poster', client_secret: 'wrong' })
    expectOAuthError(answer, 401, 'invalid_client')
    expect(answer.headers.get('www-authenticate')).toBeNull()
  })

  it('refuses Basic plus a body secret: one method per request', async () => {
    const { token } = await tokenServer()
    const answer = await postForm(
      token,
      { ...grant, client_secret: 'svc-secret' },
      basic('svc', 'svc-secret'),
    )
    expectOAuthError(answer, 400, 'invalid_request')
  })

  it('refuses a body client_id that differs from the Basic one', async () => {
    const { token } = await tokenServer()
    const answer = await postForm(token, { ...grant, client_id: 'poster' }, basic('svc', 'svc-secret'))
    expectOAuthError(answer, 400, 'invalid_request')
  })

  it('accepts a body client_id equal to the Basic one', async () => {
    const { token } = await tokenServer()
    expect((await postForm(token, { ...grant, client_id: 'svc' }, basic('svc', 'svc-secret'))).status).toBe(
      200,
    )
  })

  it('refuses Basic credentials that are not form-urlencoded', async () => {
    const { token } = await tokenServer()
    const raw = `Basic ${Buffer.from('we ird%&+:id:s3 cr%&+:et').toString('base64')}`
    const answer = await postForm(token, grant, { authorization: raw })
    expectOAuthError(answer, 401, 'invalid_client')
    expect(answer.headers.get('www-authenticate')).toMatch(/^Basic /)
  })

  it.each([
    ['no colon', `Basic ${Buffer.from('svc').toString('base64')}`],
    ['bad base64', 'Basic !!!not-base64!!!'],
    ['empty secret', `Basic ${Buffer.from('svc:').toString('base64')}`],
    ['another scheme', 'Bearer abc'],
  ])('refuses malformed Basic credentials (%s) with 401 and WWW-Authenticate', async (_name, header) => {
    const { token } = await tokenServer()
    const answer = expectOAuthError(
      await postForm(token, grant, { authorization: header }),
      401,
      'invalid_client',
    )
    expect(answer.headers.get('www-authenticate')).toMatch(/^Basic /)
  })

  it('refuses a client that authenticates with a method it did not register', async () => {
    const { token } = await tokenServer()
    const answer = await postForm(token, { ...grant, client_id: 'svc', client_secret: 'svc-secret' })
    expectOAuthError(answer, 401, 'invalid_client')
  })

  it('refuses a public client with unauthorized_client', async () => {
    const { token } = await tokenServer()
    expectOAuthError(await postForm(token, { ...grant, client_id: 'public-app' }), 400, 'unauthorized_client')
  })

  it('refuses a client not registered for the grant with unauthorized_client', async () => {
    const { token } = await tokenServer()
    expectOAuthError(
      await postForm(token, grant, basic('code-only', 'code-secret')),
      400,
      'unauthorized_client',
    )
  })

  it('rate-limits a client id after repeated failures with 429 and Retry-After', async () => {
    const { token } = await tokenServer()
    for (let i = 0; i < 3; i++)
      expectOAuthError(await postForm(token, grant, basic('svc', `guess-${i}`)), 401, 'invalid_client')
    const blocked = expectOAuthError(
      await postForm(token, grant, basic('svc', 'svc-secret')),
      429,
      'invalid_client',
    )
    const retryAfter = Number(blocked.headers.get('retry-after'))
    expect(retryAfter).toBeGreaterThan(0)
    expect(retryAfter).toBeLessThanOrEqual(60)
    // Other clients are not affected.
    expect(
      (await postForm(token, { ...grant, client_id: 'poster', client_secret: 'post-secret' })).status,
    ).toBe(200)
  })
})

describe('POST /token: scope (RFC 6749 §3.3)', () => {
  it('grants the registered scope when none is asked for', async () => {
    const { token } = await tokenServer()
    const answer = await postForm(token, grant, basic('svc', 'svc-secret'))
    expect(decodeJwt(answer.json.access_token).scope).toBe('read write')
  })

  it('grants exactly the requested subset', async () => {
    const { token } = await tokenServer()
    const answer = await postForm(token, { ...grant, scope: 'write' }, basic('svc', 'svc-secret'))
    expect(answer.json.scope).toBe('write')
    expect(decodeJwt(answer.json.access_token).scope).toBe('write')
  })

  it('refuses a scope outside the allowance with invalid_scope', async () => {
    const { token } = await tokenServer()
    expectOAuthError(
      await postForm(token, { ...grant, scope: 'read admin' }, basic('svc', 'svc-secret')),
      400,
      'invalid_scope',
    )
  })

  it.each([
    ['a newline', 'read\nwrite'],
    ['a double space', 'read  write'],
    ['a quote', 'read "write'],
    ['a backslash', 'read\\write'],
  ])('refuses a scope with %s with invalid_scope', async (_name, scope) => {
    const { token } = await tokenServer()
    expectOAuthError(
      await postForm(token, { ...grant, scope }, basic('svc', 'svc-secret')),
      400,
      'invalid_scope',
    )
  })
})

describe('POST /token: resource indicators (RFC 8707)', () => {
  it('makes the resource the audience', async () => {
    const { token } = await tokenServer()
    const answer = await postForm(token, { ...grant, resource: API }, basic('svc', 'svc-secret'))
    expect(decodeJwt(answer.json.access_token).aud).toBe(API)
  })

  it('uses the issuer as the audience when no resource is named and no default is configured', async () => {
    const { token, url } = await tokenServer()
    const answer = await postForm(token, grant, basic('svc', 'svc-secret'))
    expect(decodeJwt(answer.json.access_token).aud).toBe(url)
  })

  it('uses the configured default audience', async () => {
    const { url } = await startServer({
      clients: [{ client_id: 'a', client_secret: 's' }],
      defaultAudience: 'urn:api',
    })
    const answer = await postForm(`${url}/token`, grant, basic('a', 's'))
    expect(decodeJwt(answer.json.access_token).aud).toBe('urn:api')
  })

  it('uses the audience configured for a resource', async () => {
    const { url } = await startServer({
      clients: [{ client_id: 'a', client_secret: 's' }],
      resources: [{ resource: API, audience: 'api-b', accessTokenLifetimeSec: 120 }],
    })
    const answer = await postForm(`${url}/token`, { ...grant, resource: API }, basic('a', 's'))
    expect(answer.json.expires_in).toBe(120)
    const claims = decodeJwt(answer.json.access_token)
    expect(claims.aud).toBe('api-b')
    expect(claims.exp! - claims.iat!).toBe(120)
  })

  it.each([
    ['not a URI', 'not a uri'],
    ['relative', '/api'],
    ['with a fragment', `${API}#frag`],
    ['unregistered', 'https://unknown.example.com/'],
  ])('refuses a resource that is %s with invalid_target', async (_name, resource) => {
    const { token } = await tokenServer()
    expectOAuthError(
      await postForm(token, { ...grant, resource }, basic('svc', 'svc-secret')),
      400,
      'invalid_target',
    )
  })

  it("refuses a resource outside the client's allowed resources", async () => {
    const { token } = await tokenServer()
    expect((await postForm(token, { ...grant, resource: API }, basic('one-api', 'one-secret'))).status).toBe(
      200,
    )
    const answer = await postForm(token, { ...grant, resource: OTHER_API }, basic('one-api', 'one-secret'))
    expectOAuthError(answer, 400, 'invalid_target')
  })

  it('refuses a resource-restricted client that names none when the default audience is not its own', async () => {
    const { url } = await startServer({
      clients: [
        { client_id: 'held', client_secret: 's', resources: [API] },
        { client_id: 'free', client_secret: 's' },
      ],
      resources: [{ resource: API }, { resource: OTHER_API }],
      defaultAudience: OTHER_API,
    })
    expectOAuthError(await postForm(`${url}/token`, grant, basic('held', 's')), 400, 'invalid_target')
    const own = await postForm(`${url}/token`, { ...grant, resource: API }, basic('held', 's'))
    expect(decodeJwt(own.json.access_token).aud).toBe(API)
    const unrestricted = await postForm(`${url}/token`, grant, basic('free', 's'))
    expect(decodeJwt(unrestricted.json.access_token).aud).toBe(OTHER_API)
  })

  it('gives a resource-restricted client that names none the default audience when it is one of its own', async () => {
    const { url } = await startServer({
      clients: [{ client_id: 'held', client_secret: 's', resources: [API] }],
      resources: [{ resource: API }],
      defaultAudience: API,
    })
    const answer = await postForm(`${url}/token`, grant, basic('held', 's'))
    expect(decodeJwt(answer.json.access_token).aud).toBe(API)
  })

  it('refuses two resources for a client that may not combine them', async () => {
    const { token } = await tokenServer()
    const answer = await postForm(token, { ...grant, resource: [API, OTHER_API] }, basic('svc', 'svc-secret'))
    expectOAuthError(answer, 400, 'invalid_target')
  })

  it('puts both resources in aud for a client that may combine them', async () => {
    const { token } = await tokenServer()
    const answer = await postForm(
      token,
      { ...grant, resource: [API, OTHER_API] },
      basic('multi', 'multi-secret'),
    )
    expect(answer.status).toBe(200)
    expect(decodeJwt(answer.json.access_token).aud).toEqual([API, OTHER_API])
  })

  it('refuses to combine resources with different token formats', async () => {
    const { token } = await tokenServer()
    const resource = [API, 'https://opaque.example.com/']
    expectOAuthError(
      await postForm(token, { ...grant, resource }, basic('multi', 'multi-secret')),
      400,
      'invalid_target',
    )
  })

  it('issues an opaque 256-bit token for a resource configured so', async () => {
    const { token } = await tokenServer()
    const answer = await postForm(
      token,
      { ...grant, resource: 'https://opaque.example.com/' },
      basic('svc', 'svc-secret'),
    )
    expect(answer.status).toBe(200)
    expect(answer.json.access_token).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(Buffer.from(answer.json.access_token, 'base64url')).toHaveLength(32)
  })
})
