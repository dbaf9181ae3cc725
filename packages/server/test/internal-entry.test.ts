import * as publicEntry from '@oauth-m2m/server'
import { createAuthorizationServer } from '@oauth-m2m/server'
import { accessTokenClaims, issueAccessToken } from '@oauth-m2m/server/internal'
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose'
import { describe, expect, it } from 'vitest'
import { basic, postForm, startServer } from './test-server.js'

const clients = [{ client_id: 'svc', client_secret: 'svc-secret' }]

describe('@oauth-m2m/server/internal issueAccessToken', () => {
  it('signs exactly the given claims with the current key; header members replace typ and kid, not alg', async () => {
    const { url, server } = await startServer({ clients, accessTokenTyp: 'JWT' })
    const nowSec = Math.floor(Date.now() / 1000)
    const claims = { iss: 'https://elsewhere.test', sub: 'x', exp: nowSec + 60, custom: [1, 2] }
    const jwks = createRemoteJWKSet(new URL(`${url}/jwks`))

    const plain = await issueAccessToken(server, { claims })
    const { payload, protectedHeader } = await jwtVerify(plain, jwks)
    expect(payload).toEqual(claims)
    expect(protectedHeader).toEqual({ alg: 'ES256', typ: 'JWT', kid: expect.any(String) })

    const shaped = await issueAccessToken(server, {
      claims,
      header: { typ: 'at+jwt', kid: 'another-kid', alg: 'none', x5t: 'abc' },
    })
    expect(decodeProtectedHeader(shaped)).toEqual({
      alg: 'ES256',
      typ: 'at+jwt',
      kid: 'another-kid',
      x5t: 'abc',
    })
    const untyped = await issueAccessToken(server, { claims, header: { typ: undefined } })
    expect(decodeProtectedHeader(untyped)).toEqual({ alg: 'ES256', kid: protectedHeader.kid })
  })

  it('stores opaque tokens so that introspection answers the claims and revocation knows them', async () => {
    const { url, server } = await startServer({ clients })
    const nowSec = Math.floor(Date.now() / 1000)
    const claims = { iss: url, sub: 'svc', client_id: 'svc', exp: nowSec + 60, tenant: 't' }
    const token = await issueAccessToken(server, { claims, format: 'opaque' })
    const introspect = () => postForm(`${url}/introspect`, { token }, basic('svc', 'svc-secret'))
    expect((await introspect()).json).toEqual({ active: true, ...claims, token_type: 'Bearer' })
    expect((await postForm(`${url}/revoke`, { token }, basic('svc', 'svc-secret'))).status).toBe(200)
    expect((await introspect()).json).toEqual({ active: false })
  })

  it('stores an already-expired opaque token as inactive', async () => {
    const { url, server } = await startServer({ clients })
    const token = await issueAccessToken(server, { claims: { sub: 'svc', exp: 1 }, format: 'opaque' })
    expect((await postForm(`${url}/introspect`, { token }, basic('svc', 'svc-secret'))).json).toEqual({
      active: false,
    })
  })

  it('accessTokenClaims reads the claims of a live token of either format, and nothing else', async () => {
    const { url, server } = await startServer({
      clients,
      resources: [{ resource: 'https://opaque.test', tokenFormat: 'opaque' }],
    })
    const issue = async (extra: Record<string, string> = {}) =>
      (
        await postForm(
          `${url}/token`,
          { grant_type: 'client_credentials', ...extra },
          basic('svc', 'svc-secret'),
        )
      ).json.access_token as string
    const jwt = await issue()
    expect(await accessTokenClaims(server, jwt)).toMatchObject({ iss: url, client_id: 'svc', aud: url })
    const opaque = await issue({ resource: 'https://opaque.test' })
    expect(await accessTokenClaims(server, opaque)).toMatchObject({
      client_id: 'svc',
      aud: 'https://opaque.test',
    })
    expect(await accessTokenClaims(server, 'not-a-token')).toBeUndefined()
    expect(await accessTokenClaims(server, `${jwt.slice(0, -4)}AAAA`)).toBeUndefined()
  })

  it('refuses a server it did not create, and is not on the public entry point', async () => {
    const server = await createAuthorizationServer({ clients })
    const fake = { ...server }
    await expect(issueAccessToken(fake, { claims: {} })).rejects.toThrow(TypeError)
    expect(publicEntry).not.toHaveProperty('issueAccessToken')
  })
})
