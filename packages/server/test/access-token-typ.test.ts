import { ConfigurationError } from '@oauth-m2m/core'
import { createAuthorizationServer } from '@oauth-m2m/server'
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose'
import { describe, expect, it } from 'vitest'
import { basic, postForm, startServer } from './test-server.js'

async function issueAndIntrospect(accessTokenTyp: string | null | undefined) {
  const { url } = await startServer({
    clients: [{ client_id: 'svc', client_secret: 'svc-secret' }],
    ...(accessTokenTyp === undefined ? {} : { accessTokenTyp }),
  })
  const answer = await postForm(
    `${url}/token`,
    { grant_type: 'client_credentials' },
    basic('svc', 'svc-secret'),
  )
  const token = answer.json.access_token as string
  const introspection = await postForm(`${url}/introspect`, { token }, basic('svc', 'svc-secret'))
  const verified = await jwtVerify(token, createRemoteJWKSet(new URL(`${url}/jwks`)), { issuer: url })
  return { header: decodeProtectedHeader(token), active: introspection.json.active, verified }
}

describe('accessTokenTyp', () => {
  it('is at+jwt by default (RFC 9068)', async () => {
    const { header, active } = await issueAndIntrospect(undefined)
    expect(header.typ).toBe('at+jwt')
    expect(active).toBe(true)
  })

  it('writes the configured typ, and the server still introspects its own tokens', async () => {
    const { header, active } = await issueAndIntrospect('JWT')
    expect(header).toEqual({ alg: 'ES256', typ: 'JWT', kid: expect.any(String) })
    expect(active).toBe(true)
  })

  it('leaves typ out when null, and the server still introspects its own tokens', async () => {
    const { header, active } = await issueAndIntrospect(null)
    expect(header).toEqual({ alg: 'ES256', kid: expect.any(String) })
    expect(active).toBe(true)
  })

  it.each([[''], ['at jwt'], [42]])('refuses %j', async (value) => {
    const error = await createAuthorizationServer({ clients: [], accessTokenTyp: value as never }).catch(
      (e) => e,
    )
    expect(error).toBeInstanceOf(ConfigurationError)
    expect(error.message).toContain('accessTokenTyp must be a media type')
  })
})
