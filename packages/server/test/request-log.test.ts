import { randomUUID } from 'node:crypto'
import { JWT_BEARER_ASSERTION_TYPE } from '@oauth-m2m/core'
import { encodeBasicCredentials } from '@oauth-m2m/core/internal'
import { createAuthorizationServer, type RequestLogEntry } from '@oauth-m2m/server'
import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import { describe, expect, it } from 'vitest'
import { basic, FORM, postForm, send, startServer } from './test-server.js'

const SECRET = 'request-log-secret-value-0123456789'
const HMAC_SECRET = 'request-log-hmac-secret-that-is-long-enough-0123456789'

/** A server logging into an array, with a Basic, a post, an HMAC-assertion and a key-assertion client. */
async function loggingServer() {
  const keys = await generateKeyPair('ES256', { extractable: true })
  const entries: RequestLogEntry[] = []
  const { server, url } = await startServer({
    clients: [
      { client_id: 'basic-client', client_secret: SECRET, scope: 'read' },
      { client_id: 'post-client', client_secret: SECRET, token_endpoint_auth_method: 'client_secret_post' },
      { client_id: 'hs-client', client_secret: HMAC_SECRET, token_endpoint_auth_method: 'client_secret_jwt' },
      {
        client_id: 'key-client',
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [{ ...(await exportJWK(keys.publicKey)), kid: 'k1' }] },
      },
    ],
    onRequest: (entry) => entries.push(entry),
  })
  return { server, url, entries, keys }
}

describe('onRequest: the request log hook', () => {
  it('gets one entry per request: method, path, status, client, method of authentication, duration', async () => {
    const { url, entries } = await loggingServer()
    const ok = await postForm(
      `${url}/token`,
      { grant_type: 'client_credentials' },
      basic('basic-client', SECRET),
    )
    expect(ok.status).toBe(200)
    expect(entries).toHaveLength(1)
    const [entry] = entries
    expect(entry).toEqual({
      method: 'POST',
      path: '/token',
      status: 200,
      clientId: 'basic-client',
      authMethod: 'client_secret_basic',
      durationMs: expect.any(Number),
    })
    expect(entry!.durationMs).toBeGreaterThanOrEqual(0)
    expect(Object.getPrototypeOf(entry)).toBe(Object.prototype)
  })

  it('never holds a secret, token, assertion or the query; an error answer gives its code', async () => {
    const { url, entries, keys } = await loggingServer()
    const token = await postForm(
      `${url}/token`,
      { grant_type: 'client_credentials', client_id: 'post-client', client_secret: SECRET },
      {},
    )
    expect(token.status).toBe(200)
    const accessToken: string = token.json.access_token
    await postForm(`${url}/introspect`, { token: accessToken }, basic('basic-client', SECRET))
    await postForm(`${url}/revoke`, { token: accessToken }, basic('basic-client', 'wrong-secret-value'))
    const assertion = await new SignJWT({ jti: randomUUID() })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuer('key-client')
      .setSubject('key-client')
      .setAudience(url)
      .setIssuedAt()
      .setExpirationTime('1m')
      .sign(keys.privateKey)
    await postForm(`${url}/token`, {
      grant_type: 'client_credentials',
      client_assertion_type: JWT_BEARER_ASSERTION_TYPE,
      client_assertion: assertion,
    })
    const hmacAssertion = await new SignJWT({ jti: randomUUID() })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('hs-client')
      .setSubject('hs-client')
      .setAudience(url)
      .setIssuedAt()
      .setExpirationTime('1m')
      .sign(new TextEncoder().encode(HMAC_SECRET))
    await postForm(`${url}/token`, {
      grant_type: 'client_credentials',
      client_id: 'hs-client',
      client_assertion_type: JWT_BEARER_ASSERTION_TYPE,
      client_assertion: hmacAssertion,
    })
    await send(`${url}/jwks?access_token=${accessToken}`)

    expect(entries.map((e) => [e.path, e.status, e.error, e.clientId, e.authMethod])).toEqual([
      ['/token', 200, undefined, 'post-client', 'client_secret_post'],
      ['/introspect', 200, undefined, 'basic-client', 'client_secret_basic'],
      ['/revoke', 401, 'invalid_client', 'basic-client', 'client_secret_basic'],
      ['/token', 200, undefined, 'key-client', 'private_key_jwt'],
      ['/token', 200, undefined, 'hs-client', 'client_secret_jwt'],
      ['/jwks', 200, undefined, undefined, undefined],
    ])
    const logged = JSON.stringify(entries)
    for (const secretValue of [
      SECRET,
      'wrong-secret-value',
      accessToken,
      assertion,
      hmacAssertion,
      HMAC_SECRET,
    ]) {
      expect(logged).not.toContain(secretValue)
    }
    expect(logged).not.toContain('Basic ')
  })

  it('logs refused requests too: a 404, a 405, a body over the limit, a client id alone', async () => {
    const entries: RequestLogEntry[] = []
    const { url } = await startServer({
      clients: [{ client_id: 'a', client_secret: SECRET }],
      maxBodyBytes: 100,
      onRequest: (entry) => entries.push(entry),
    })
    await send(`${url}/nowhere`)
    await send(`${url}/token`)
    await postForm(`${url}/token`, `grant_type=client_credentials&pad=${'x'.repeat(200)}`)
    await postForm(`${url}/token`, { grant_type: 'client_credentials', client_id: 'a' })
    expect(entries.map((e) => [e.method, e.path, e.status, e.error, e.clientId, e.authMethod])).toEqual([
      ['GET', '/nowhere', 404, 'not_found', undefined, undefined],
      ['GET', '/token', 405, 'invalid_request', undefined, undefined],
      ['POST', '/token', 413, 'invalid_request', undefined, undefined],
      ['POST', '/token', 401, 'invalid_client', 'a', 'none'],
    ])
  })

  it('cuts a long path and a long client id, and leaves the query out', async () => {
    const { url, entries } = await loggingServer()
    await send(`${url}/${'p'.repeat(1000)}?secret=${SECRET}`)
    await postForm(`${url}/token`, { grant_type: 'client_credentials' }, basic('c'.repeat(1000), SECRET))
    expect(entries[0]!.path).toHaveLength(256)
    expect(entries[0]!.path.endsWith('…')).toBe(true)
    expect(entries[1]!.clientId).toHaveLength(256)
    expect(JSON.stringify(entries)).not.toContain(SECRET)
  })

  it('logs what handle() answers, and a hook that throws changes nothing but is reported', async () => {
    const errors: unknown[] = []
    const entries: RequestLogEntry[] = []
    const server = await createAuthorizationServer({
      issuer: 'https://as.example.com',
      clients: [{ client_id: 'a', client_secret: SECRET }],
      onRequest: (entry) => {
        entries.push(entry)
        throw new Error('logger down')
      },
      onInternalError: (error) => errors.push(error),
    })
    const response = await server.handle(
      new Request('https://as.example.com/token?x=1', {
        method: 'POST',
        headers: { authorization: encodeBasicCredentials('a', SECRET), 'content-type': FORM },
        body: 'grant_type=client_credentials',
      }),
    )
    expect(response.status).toBe(200)
    expect(entries).toEqual([
      {
        method: 'POST',
        path: '/token',
        status: 200,
        clientId: 'a',
        authMethod: 'client_secret_basic',
        durationMs: expect.any(Number),
      },
    ])
    expect(errors).toHaveLength(1)
    expect((errors[0] as Error).message).toBe('logger down')
  })

  it('refuses an onRequest that is not a function', async () => {
    await expect(
      createAuthorizationServer({ clients: [], onRequest: 'yes' as unknown as () => void }),
    ).rejects.toThrow(/onRequest must be a function/)
  })
})
