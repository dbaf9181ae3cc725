import { randomUUID } from 'node:crypto'
import { JWT_BEARER_ASSERTION_TYPE } from '@oauth-m2m/core'
import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import { describe, expect, it } from 'vitest'
import { basic, expectOAuthError, postForm, startServer } from './test-server.js'

const OPAQUE_API = 'https://opaque.example.com/'

async function server(options: { accessTokenLifetimeSec?: number; now?: () => number } = {}) {
  const keys = await generateKeyPair('ES256', { extractable: true })
  const { url } = await startServer({
    clients: [
      { client_id: 'svc', client_secret: 'svc-secret', scope: 'read write' },
      { client_id: 'other', client_secret: 'other-secret', scope: 'read' },
      { client_id: 'rs', client_secret: 'rs-secret' },
      { client_id: 'public-app', token_endpoint_auth_method: 'none' },
      {
        client_id: 'pk-rs',
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [{ ...(await exportJWK(keys.publicKey)), kid: 'k1' }] },
      },
    ],
    resources: [{ resource: OPAQUE_API, tokenFormat: 'opaque' }],
    ...options,
  })
  const issue = async (clientId = 'svc', secret = 'svc-secret', extra: Record<string, string> = {}) => {
    const answer = await postForm(
      `${url}/token`,
      { grant_type: 'client_credentials', ...extra },
      basic(clientId, secret),
    )
    expect(answer.status).toBe(200)
    return answer.json.access_token as string
  }
  const introspect = (token: string, headers = basic('rs', 'rs-secret')) =>
    postForm(`${url}/introspect`, { token }, headers)
  const revoke = (token: string, clientId = 'svc', secret = 'svc-secret') =>
    postForm(`${url}/revoke`, { token }, basic(clientId, secret))
  return { url, issue, introspect, revoke, privateKey: keys.privateKey }
}

describe('POST /introspect (RFC 7662)', () => {
  it('describes a live JWT access token', async () => {
    const { url, issue, introspect } = await server()
    const token = await issue()
    const answer = await introspect(token)
    expect(answer.status).toBe(200)
    expect(answer.headers.get('cache-control')).toBe('no-store')
    expect(answer.json).toEqual({
      active: true,
      client_id: 'svc',
      scope: 'read write',
      exp: expect.any(Number),
      iat: expect.any(Number),
      sub: 'svc',
      aud: url,
      iss: url,
      token_type: 'Bearer',
      jti: expect.any(String),
    })
    expect(answer.json.exp - answer.json.iat).toBe(3600)
  })

  it('describes a live opaque access token', async () => {
    const { issue, introspect } = await server()
    const token = await issue('svc', 'svc-secret', { resource: OPAQUE_API, scope: 'read' })
    const answer = await introspect(token)
    expect(answer.json).toMatchObject({
      active: true,
      client_id: 'svc',
      scope: 'read',
      aud: OPAQUE_API,
      token_type: 'Bearer',
    })
  })

  it('accepts a caller authenticating with private_key_jwt, aud = the introspection endpoint', async () => {
    const { url, issue, privateKey } = await server()
    const token = await issue()
    const now = Math.floor(Date.now() / 1000)
    const assertion = await new SignJWT({ jti: randomUUID() })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuer('pk-rs')
      .setSubject('pk-rs')
      .setAudience(`${url}/introspect`)
      .setIssuedAt(now)
      .setExpirationTime(now + 60)
      .sign(privateKey)
    const answer = await postForm(`${url}/introspect`, {
      token,
      client_assertion_type: JWT_BEARER_ASSERTION_TYPE,
      client_assertion: assertion,
    })
    expect(answer.json.active).toBe(true)
  })

  it('refuses a caller without authentication with 401 invalid_client', async () => {
    const { issue, introspect } = await server()
    const answer = await introspect(await issue(), {})
    expectOAuthError(answer, 401, 'invalid_client')
    expect(answer.text).not.toContain('active')
  })

  it('refuses a public client with 401 invalid_client', async () => {
    const { url, issue } = await server()
    const answer = await postForm(`${url}/introspect`, { token: await issue(), client_id: 'public-app' })
    expectOAuthError(answer, 401, 'invalid_client')
  })

  it('refuses a request without token with invalid_request', async () => {
    const { url } = await server()
    expectOAuthError(
      await postForm(`${url}/introspect`, { token_type_hint: 'access_token' }, basic('rs', 'rs-secret')),
      400,
      'invalid_request',
    )
  })

  it.each([
    ['garbage', 'garbage'],
    ['an opaque-looking unknown token', 'A'.repeat(43)],
    ['a JWT-looking string', 'eyJhbGciOiJFUzI1NiJ9.e30.c2ln'],
  ])('answers exactly {"active":false} for %s', async (_name, token) => {
    const { introspect } = await server()
    const answer = await introspect(token)
    expect(answer.status).toBe(200)
    expect(answer.text).toBe('{"active":false}')
  })

  it('answers exactly {"active":false} for a JWT with a changed payload', async () => {
    const { issue, introspect } = await server()
    const [header, , signature] = (await issue()).split('.')
    const payload = Buffer.from(
      JSON.stringify({ client_id: 'svc', scope: 'admin', exp: 9999999999 }),
    ).toString('base64url')
    expect((await introspect(`${header}.${payload}.${signature}`)).text).toBe('{"active":false}')
  })

  it('answers exactly {"active":false} for an expired token', async () => {
    let nowMs = Date.now()
    const { issue, introspect } = await server({ accessTokenLifetimeSec: 60, now: () => nowMs })
    const jwt = await issue()
    const opaque = await issue('svc', 'svc-secret', { resource: OPAQUE_API })
    expect((await introspect(jwt)).json.active).toBe(true)
    expect((await introspect(opaque)).json.active).toBe(true)
    nowMs += 61_000
    expect((await introspect(jwt)).text).toBe('{"active":false}')
    expect((await introspect(opaque)).text).toBe('{"active":false}')
  })
})

describe('POST /revoke (RFC 7009)', () => {
  it('revokes a JWT by its jti: it then introspects as inactive', async () => {
    const { issue, introspect, revoke } = await server()
    const token = await issue()
    const answer = await revoke(token)
    expect(answer.status).toBe(200)
    expect(answer.text).toBe('')
    expect((await introspect(token)).text).toBe('{"active":false}')
  })

  it('revokes an opaque token', async () => {
    const { issue, introspect, revoke } = await server()
    const token = await issue('svc', 'svc-secret', { resource: OPAQUE_API })
    expect((await revoke(token)).status).toBe(200)
    expect((await introspect(token)).text).toBe('{"active":false}')
  })

  it('answers 200 for an unknown token', async () => {
    const { revoke } = await server()
    expect((await revoke('never-issued')).status).toBe(200)
  })

  it("refuses to revoke another client's token and leaves it active", async () => {
    const { issue, introspect, revoke } = await server()
    const token = await issue()
    expectOAuthError(await revoke(token, 'other', 'other-secret'), 400, 'invalid_request')
    expect((await introspect(token)).json.active).toBe(true)
  })

  it('refuses a caller without authentication with 401 invalid_client', async () => {
    const { url, issue } = await server()
    expectOAuthError(await postForm(`${url}/revoke`, { token: await issue() }), 401, 'invalid_client')
  })

  it('refuses a caller with a wrong secret with 401 invalid_client', async () => {
    const { issue, revoke } = await server()
    expectOAuthError(await revoke(await issue(), 'svc', 'wrong'), 401, 'invalid_client')
  })
})
