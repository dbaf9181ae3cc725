/**
 * The behaviour every middleware adapter shares (RFC 6750 §2.1 and §3), written once and run
 * against each real framework. An adapter under test serves two routes that answer
 * `200 {"clientId", "scopes"}` from wherever that framework puts the Principal:
 *
 * - `GET /things`, protected with the options given (realm `things-api`, scope `read`);
 * - `GET /admin`, protected the framework's own way for a route that needs `read` and `admin`;
 * - with `resourceMetadata`, the RFC 9728 well-known paths reach the middleware (app-wide, or
 *   mounted on `/.well-known`, as that framework's users would do it).
 */

import { createVerifier } from '@oauth-m2m/verifier'
import type { BearerAuthOptions } from '@oauth-m2m/verifier/node'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { type FakeVerifier, fakeVerifier } from './fake-verifier.js'
import { type HttpAnswer, httpCall } from './http-call.js'

/** A running app. */
export interface AppUnderTest {
  url: string
  close(): Promise<void>
}

/** Starts the adapter's app on 127.0.0.1 port 0 with these middleware options. */
export type StartApp = (options: BearerAuthOptions) => Promise<AppUnderTest>

const REALM = 'things-api'

function expectRefusal(
  answer: HttpAnswer,
  status: number,
  wwwAuthenticate: string | undefined,
  body: Record<string, string>,
): void {
  expect({ status: answer.status, body: JSON.parse(answer.body) }).toEqual({ status, body })
  expect(answer.headers['www-authenticate']).toBe(wwwAuthenticate)
  expect(answer.headers['cache-control']).toBe('no-store')
  expect(answer.headers['content-type']).toBe('application/json')
}

function invalidRequest(description: string): [string, Record<string, string>] {
  return [
    `Bearer realm="${REALM}", error="invalid_request", error_description="${description}"`,
    { error: 'invalid_request', error_description: description },
  ]
}

const QUERY_TOKEN = 'access tokens are not accepted in the query string; use Authorization: Bearer'
const NO_TOKEN_AFTER_SCHEME = 'the Authorization header has the Bearer scheme but no token after it'
const NOT_ONE_TOKEN = 'the Authorization header does not hold exactly one bearer token (RFC 6750 section 2.1)'

/** Registers the shared specification in the current `describe` block. */
export function bearerAuthConformance(startApp: StartApp): void {
  let verifier: FakeVerifier
  let app: AppUnderTest

  beforeAll(async () => {
    verifier = fakeVerifier()
    app = await startApp({ verifier, realm: REALM, requiredScopes: ['read'] })
  })
  afterAll(() => app.close())
  beforeEach(() => {
    verifier.calls.length = 0
  })

  const get = (path: string, headers: Record<string, string | string[]> = {}) =>
    httpCall(`${app.url}${path}`, { headers })

  it('passes the Principal of a valid token to the handler, checking the configured scopes', async () => {
    const answer = await get('/things', { authorization: 'Bearer good.token' })
    expect(answer.status).toBe(200)
    expect(JSON.parse(answer.body)).toEqual({ clientId: 'service-a', scopes: ['read'] })
    expect(verifier.calls.map((c) => [c.token, c.requiredScopes])).toEqual([['good.token', ['read']]])
  })

  it('accepts the scheme in any case and several spaces before the token', async () => {
    for (const authorization of ['bearer good.token', 'BEARER good.token', 'Bearer    good.token']) {
      const answer = await get('/things', { authorization })
      expect(answer.status, authorization).toBe(200)
    }
    expect(verifier.calls.map((c) => c.token)).toEqual(['good.token', 'good.token', 'good.token'])
  })

  it('answers a request without credentials 401 with a challenge that has no error code', async () => {
    const answer = await get('/things')
    expectRefusal(answer, 401, `Bearer realm="${REALM}"`, {
      error_description: 'a bearer access token is required',
    })
    expect(verifier.calls).toEqual([])
  })

  it('treats credentials of another scheme as no bearer credentials', async () => {
    const answer = await get('/things', { authorization: 'Basic c2VydmljZS1hOnNlY3JldA==' })
    expectRefusal(answer, 401, `Bearer realm="${REALM}"`, {
      error_description: 'a bearer access token is required',
    })
    expect(verifier.calls).toEqual([])
  })

  it('answers a token the verifier rejects 401 invalid_token', async () => {
    const answer = await get('/things', { authorization: 'Bearer not.a.known-token' })
    expectRefusal(
      answer,
      401,
      `Bearer realm="${REALM}", error="invalid_token", error_description="the token is not valid"`,
      { error: 'invalid_token', error_description: 'the token is not valid' },
    )
    expect(answer.body).not.toContain('not.a.known-token')
  })

  it('answers a valid token without the route scopes 403 insufficient_scope naming them', async () => {
    const answer = await get('/admin', { authorization: 'Bearer good.token' })
    expectRefusal(
      answer,
      403,
      `Bearer realm="${REALM}", error="insufficient_scope", error_description="the token lacks required scope: read admin", scope="read admin"`,
      { error: 'insufficient_scope', error_description: 'the token lacks required scope: read admin' },
    )
    expect(verifier.calls.map((c) => c.requiredScopes)).toEqual([['read', 'admin']])
  })

  it('lets a token with the route scopes through', async () => {
    const answer = await get('/admin', { authorization: 'Bearer admin.token' })
    expect(answer.status).toBe(200)
    expect(JSON.parse(answer.body)).toEqual({ clientId: 'service-admin', scopes: ['read', 'admin'] })
  })

  it('answers 503 with Retry-After and no challenge when the token cannot be checked now', async () => {
    const answer = await get('/things', { authorization: 'Bearer unavailable.token' })
    expectRefusal(answer, 503, undefined, {
      error: 'temporarily_unavailable',
      error_description: 'the access token cannot be checked right now; try again later',
    })
    expect(answer.headers['retry-after']).toBe('5')
    expect(answer.body).not.toContain('10.0.0.7')
  })

  it('answers 503 with Retry-After, not 500, when the verifier was closed (a server shutting down)', async () => {
    const closed = createVerifier({
      issuer: 'https://as.example',
      audience: 'https://things.example',
      jwksUri: 'https://as.example/jwks',
    })
    await closed.close()
    const closedApp = await startApp({ verifier: closed, realm: REALM, requiredScopes: ['read'] })
    try {
      const answer = await httpCall(`${closedApp.url}/things`, { headers: { authorization: 'Bearer a.b.c' } })
      expectRefusal(answer, 503, undefined, {
        error: 'temporarily_unavailable',
        error_description: 'the access token cannot be checked right now; try again later',
      })
      expect(answer.headers['retry-after']).toBe('5')
    } finally {
      await closedApp.close()
    }
  })

  it('refuses the former option name scopes when it is set up, naming requiredScopes', async () => {
    const old = { verifier, realm: REALM, scopes: ['read'] } as BearerAuthOptions
    await expect((async () => startApp(old))()).rejects.toThrow(
      'bearer auth: "scopes" is now named "requiredScopes"',
    )
  })

  it('answers 400 invalid_request to "Bearer" with no token, without calling the verifier', async () => {
    for (const authorization of ['Bearer', 'Bearer ']) {
      const [challenge, body] = invalidRequest(NO_TOKEN_AFTER_SCHEME)
      expectRefusal(await get('/things', { authorization }), 400, challenge, body)
    }
    expect(verifier.calls).toEqual([])
  })

  it('answers 400 invalid_request to a token outside the b64token syntax or to several tokens', async () => {
    for (const authorization of [
      'Bearer good.token other',
      'Bearer to"ken',
      'Bearer tok,en',
      'Bearer =abc',
      'Bearer ab=c',
    ]) {
      const answer = await get('/things', { authorization })
      const [challenge, body] = invalidRequest(NOT_ONE_TOKEN)
      expectRefusal(answer, 400, challenge, body)
      expect(answer.body).not.toContain(authorization.slice(7))
    }
    expect(verifier.calls).toEqual([])
  })

  it('answers 400 invalid_request to two Authorization headers', async () => {
    const answer = await get('/things', { authorization: ['Bearer good.token', 'Bearer admin.token'] })
    expect(answer.status).toBe(400)
    expect(JSON.parse(answer.body).error).toBe('invalid_request')
    expect(answer.headers['www-authenticate']).toMatch(/^Bearer realm="things-api", error="invalid_request"/)
    expect(verifier.calls).toEqual([])
  })

  it('answers 400 invalid_request to a token in the query string, alone or beside the header', async () => {
    const [challenge, body] = invalidRequest(QUERY_TOKEN)
    expectRefusal(await get('/things?access_token=good.token'), 400, challenge, body)
    expectRefusal(
      await get('/things?a=1&access_token=x', { authorization: 'Bearer good.token' }),
      400,
      challenge,
      body,
    )
    expect(verifier.calls).toEqual([])
  })

  it('ignores other query parameters', async () => {
    const answer = await get('/things?page=2&token_hint=x', { authorization: 'Bearer good.token' })
    expect(answer.status).toBe(200)
  })

  it('never echoes the token in a refusal', async () => {
    const token = 'c2VjcmV0LXRva2VuLXZhbHVl.secret-part'
    for (const path of ['/things', '/admin']) {
      const answer = await get(path, { authorization: `Bearer ${token}` })
      expect(answer.status).toBe(401)
      expect(JSON.stringify(answer.headers) + answer.body).not.toContain('secret')
    }
  })

  describe('RFC 9728 protected-resource metadata', () => {
    resourceMetadataConformance(startApp)
  })
}

const RESOURCE = 'https://api.example.com/things'
const METADATA_URL = 'https://api.example.com/.well-known/oauth-protected-resource/things'
const RESOURCE_METADATA = `resource_metadata="${METADATA_URL}"`

/** The document the options below must produce, member for member (RFC 9728 §2, §3.2). */
const DOCUMENT = {
  resource: RESOURCE,
  authorization_servers: ['https://as.example.com'],
  scopes_supported: ['read', 'admin'],
  bearer_methods_supported: ['header'],
  resource_name: 'Things API',
  resource_documentation: 'https://api.example.com/docs',
}

function resourceMetadataConformance(startApp: StartApp): void {
  let verifier: FakeVerifier
  let app: AppUnderTest

  beforeAll(async () => {
    verifier = fakeVerifier()
    app = await startApp({
      verifier,
      realm: REALM,
      requiredScopes: ['read'],
      resourceMetadata: {
        resource: RESOURCE,
        authorizationServers: ['https://as.example.com'],
        scopesSupported: ['read', 'admin'],
        resourceName: 'Things API',
        resourceDocumentation: 'https://api.example.com/docs',
      },
    })
  })
  afterAll(() => app.close())
  beforeEach(() => {
    verifier.calls.length = 0
  })

  const call = (path: string, headers: Record<string, string> = {}, method = 'GET') =>
    httpCall(`${app.url}${path}`, { method, headers })

  it('serves the document at the path-suffixed well-known URL (§3.1) without asking for a token', async () => {
    const answer = await call('/.well-known/oauth-protected-resource/things')
    expect(answer.status).toBe(200)
    expect(answer.headers['content-type']).toBe('application/json')
    expect(answer.headers['cache-control']).toBe('public, max-age=3600')
    expect(JSON.parse(answer.body)).toEqual(DOCUMENT)
    expect(answer.headers['www-authenticate']).toBeUndefined()
    expect(verifier.calls).toEqual([])
  })

  it('serves the same document at the bare well-known URL (§3), whatever the query or credentials', async () => {
    for (const [path, headers] of [
      ['/.well-known/oauth-protected-resource', {}],
      ['/.well-known/oauth-protected-resource?probe=1', {}],
      ['/.well-known/oauth-protected-resource/things', { authorization: 'Bearer not.a.known-token' }],
    ] as const) {
      const answer = await call(path, headers)
      expect(answer.status, path).toBe(200)
      expect(JSON.parse(answer.body), path).toEqual(DOCUMENT)
    }
    expect(verifier.calls).toEqual([])
  })

  it('answers HEAD of the document with its headers and no body', async () => {
    const answer = await call('/.well-known/oauth-protected-resource/things', {}, 'HEAD')
    expect(answer.status).toBe(200)
    expect(answer.headers['content-type']).toBe('application/json')
    expect(answer.body).toBe('')
  })

  it('serves nothing at a well-known path of another resource', async () => {
    const answer = await call('/.well-known/oauth-protected-resource/other')
    expect(answer.status).not.toBe(200)
    expect(answer.body).not.toContain('authorization_servers')
  })

  it('names the metadata URL in every challenge it sends (§5.1)', async () => {
    const missing = await call('/things')
    expect(missing.status).toBe(401)
    expect(missing.headers['www-authenticate']).toBe(`Bearer realm="${REALM}", ${RESOURCE_METADATA}`)

    const invalid = await call('/things', { authorization: 'Bearer not.a.known-token' })
    expect(invalid.status).toBe(401)
    expect(invalid.headers['www-authenticate']).toBe(
      `Bearer realm="${REALM}", error="invalid_token", error_description="the token is not valid", ${RESOURCE_METADATA}`,
    )

    const insufficient = await call('/admin', { authorization: 'Bearer good.token' })
    expect(insufficient.status).toBe(403)
    expect(insufficient.headers['www-authenticate']).toBe(
      `Bearer realm="${REALM}", error="insufficient_scope", error_description="the token lacks required scope: read admin", scope="read admin", ${RESOURCE_METADATA}`,
    )

    const malformed = await call('/things', { authorization: 'Bearer' })
    expect(malformed.status).toBe(400)
    expect(malformed.headers['www-authenticate']).toBe(
      `Bearer realm="${REALM}", error="invalid_request", error_description="${NO_TOKEN_AFTER_SCHEME}", ${RESOURCE_METADATA}`,
    )
  })

  it('still lets a valid token through, and sends no challenge with a 503', async () => {
    const ok = await call('/things', { authorization: 'Bearer good.token' })
    expect(ok.status).toBe(200)
    expect(JSON.parse(ok.body)).toEqual({ clientId: 'service-a', scopes: ['read'] })
    const unavailable = await call('/things', { authorization: 'Bearer unavailable.token' })
    expect(unavailable.status).toBe(503)
    expect(unavailable.headers['www-authenticate']).toBeUndefined()
  })

  it('refuses an invalid resourceMetadata when it is set up', async () => {
    for (const [resourceMetadata, message] of [
      [
        { resource: 'http://api.example.com/things', authorizationServers: ['https://as.example.com'] },
        'resource must be an https URL',
      ],
      [
        { resource: 'https://api.example.com/things#x', authorizationServers: ['https://as.example.com'] },
        'fragment',
      ],
      [{ resource: RESOURCE, authorizationServers: [] }, 'authorizationServers must list at least one'],
    ] as const) {
      await expect((async () => startApp({ verifier, resourceMetadata }))()).rejects.toThrow(message)
    }
  })
}
