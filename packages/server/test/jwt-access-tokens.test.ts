import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose'
import { describe, expect, it } from 'vitest'
import { basic, postForm, send, startServer } from './test-server.js'

async function issueJwt(url: string, scope?: string): Promise<string> {
  const form: Record<string, string> = { grant_type: 'client_credentials' }
  if (scope) form.scope = scope
  const answer = await postForm(`${url}/token`, form, basic('svc', 'svc-secret'))
  expect(answer.status).toBe(200)
  return answer.json.access_token
}

const clients = [{ client_id: 'svc', client_secret: 'svc-secret', scope: 'read write' }]

describe('JWT access tokens (RFC 9068)', () => {
  it.each(['ES256', 'RS256', 'PS256', 'EdDSA'] as const)(
    '%s tokens verify with jose against /jwks and carry exactly the RFC 9068 claims',
    async (alg) => {
      const { url } = await startServer({ clients, signing: { alg } })
      const token = await issueJwt(url, 'read')
      const jwks = createRemoteJWKSet(new URL(`${url}/jwks`))
      const { payload, protectedHeader } = await jwtVerify(token, jwks, {
        issuer: url,
        audience: url,
        typ: 'at+jwt',
        algorithms: [alg],
      })
      expect(protectedHeader).toEqual({ alg, typ: 'at+jwt', kid: expect.any(String) })
      expect(Object.keys(payload).sort()).toEqual([
        'aud',
        'client_id',
        'exp',
        'iat',
        'iss',
        'jti',
        'scope',
        'sub',
      ])
      expect(payload).toMatchObject({ iss: url, sub: 'svc', client_id: 'svc', aud: url, scope: 'read' })
      expect(payload.exp! - payload.iat!).toBe(3600)
      expect(Math.abs(payload.iat! - Date.now() / 1000)).toBeLessThan(60)
    },
  )

  it('gives every token its own jti', async () => {
    const { url } = await startServer({ clients })
    const jwks = createRemoteJWKSet(new URL(`${url}/jwks`))
    const jtis = new Set<string>()
    for (let i = 0; i < 5; i++) jtis.add((await jwtVerify(await issueJwt(url), jwks)).payload.jti!)
    expect(jtis.size).toBe(5)
  })

  it('keeps tokens signed before rotateSigningKey() verifiable, and signs new ones with the new key', async () => {
    const { url, server } = await startServer({ clients })
    const before = await issueJwt(url)
    const newKey = await server.rotateSigningKey()
    const after = await issueJwt(url)
    expect(decodeProtectedHeader(after).kid).toBe(newKey.kid)
    expect(decodeProtectedHeader(before).kid).not.toBe(newKey.kid)
    const published = (await send(`${url}/jwks`)).json.keys.map((k: { kid: string }) => k.kid)
    expect(published).toEqual(expect.arrayContaining([decodeProtectedHeader(before).kid, newKey.kid]))
    const jwks = createRemoteJWKSet(new URL(`${url}/jwks`))
    await expect(jwtVerify(before, jwks, { issuer: url })).resolves.toBeDefined()
    await expect(jwtVerify(after, jwks, { issuer: url })).resolves.toBeDefined()
    const introspected = await postForm(`${url}/introspect`, { token: before }, basic('svc', 'svc-secret'))
    expect(introspected.json.active).toBe(true)
  })

  it('publishes public keys only, each with kid, use and alg: the current key and the next one', async () => {
    const { url } = await startServer({ clients, signing: { alg: 'RS256' } })
    const answer = await send(`${url}/jwks`)
    expect(answer.status).toBe(200)
    expect(answer.json.keys).toHaveLength(2)
    for (const key of answer.json.keys) {
      expect(key).toMatchObject({ kid: expect.any(String), use: 'sig', alg: 'RS256', kty: 'RSA' })
      for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) expect(key).not.toHaveProperty(member)
    }
  })
})

describe('GET /.well-known/oauth-authorization-server (RFC 8414)', () => {
  it('describes the endpoints, grant, auth methods, algorithms and scopes, with no empty array', async () => {
    const { url, server } = await startServer({ clients })
    const answer = await send(`${url}/.well-known/oauth-authorization-server`)
    expect(answer.status).toBe(200)
    expect(answer.json).toMatchObject({
      issuer: url,
      token_endpoint: `${url}/token`,
      jwks_uri: `${url}/jwks`,
      introspection_endpoint: `${url}/introspect`,
      revocation_endpoint: `${url}/revoke`,
      grant_types_supported: ['client_credentials'],
      scopes_supported: ['read', 'write'],
    })
    for (const prefix of ['token', 'introspection', 'revocation']) {
      expect(answer.json[`${prefix}_endpoint_auth_methods_supported`]).toEqual([
        'client_secret_basic',
        'client_secret_post',
        'client_secret_jwt',
        'private_key_jwt',
      ])
      expect(answer.json[`${prefix}_endpoint_auth_signing_alg_values_supported`]).toEqual(
        expect.arrayContaining(['HS256', 'RS256', 'ES256', 'EdDSA']),
      )
      expect(answer.json[`${prefix}_endpoint_auth_signing_alg_values_supported`]).not.toContain('none')
    }
    for (const value of Object.values(answer.json))
      if (Array.isArray(value)) expect(value.length).toBeGreaterThan(0)
    expect(server.metadata).toEqual(answer.json)
    expect(server.issuer).toBe(url)
  })

  it('leaves scopes_supported out when no client has a scope', async () => {
    const { url } = await startServer({ clients: [{ client_id: 'a', client_secret: 's' }] })
    const answer = await send(`${url}/.well-known/oauth-authorization-server`)
    expect(answer.json).not.toHaveProperty('scopes_supported')
  })

  it('uses the configured issuer, with the RFC 8414 §3 path for an issuer with a path', async () => {
    const { url } = await startServer({ clients, issuer: 'http://127.0.0.1/tenant-a' })
    const answer = await send(`${url}/.well-known/oauth-authorization-server/tenant-a`)
    expect(answer.json.issuer).toBe('http://127.0.0.1/tenant-a')
    expect(answer.json.token_endpoint).toBe('http://127.0.0.1/tenant-a/token')
    const token = await postForm(
      `${url}/tenant-a/token`,
      { grant_type: 'client_credentials' },
      basic('svc', 'svc-secret'),
    )
    expect(token.status).toBe(200)
  })

  it('answers POST to the metadata with 405', async () => {
    const { url } = await startServer({ clients })
    const answer = await send(`${url}/.well-known/oauth-authorization-server`, { method: 'POST' })
    expect(answer.status).toBe(405)
    expect(answer.headers.get('allow')).toBe('GET, HEAD')
  })
})
