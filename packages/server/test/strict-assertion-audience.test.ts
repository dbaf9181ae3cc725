/**
 * The audience of client assertions (draft-ietf-oauth-rfc7523bis-11 §4): by default the issuer,
 * the token endpoint and the endpoint called are accepted; with `strictAssertionAudience` only the
 * issuer identifier as one string, and a `typ` naming another kind of JWT is refused.
 */
import { randomUUID } from 'node:crypto'
import { ConfigurationError, JWT_BEARER_ASSERTION_TYPE } from '@oauth-m2m/core'
import { createAuthorizationServer } from '@oauth-m2m/server'
import { exportJWK, type GenerateKeyPairResult, generateKeyPair, SignJWT } from 'jose'
import { beforeAll, describe, expect, it } from 'vitest'
import { expectOAuthError, postForm, startServer } from './test-server.js'

let keys: GenerateKeyPairResult

beforeAll(async () => {
  keys = await generateKeyPair('ES256', { extractable: true })
})

async function server(strictAssertionAudience?: boolean) {
  const jwk = { ...(await exportJWK(keys.publicKey)), kid: 'k1' }
  return startServer({
    clients: [
      {
        client_id: 'jwt-client',
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [jwk] },
        scope: 'read',
      },
    ],
    ...(strictAssertionAudience === undefined ? {} : { strictAssertionAudience }),
  })
}

interface AssertionShape {
  aud: string | string[]
  /** The `typ` header; `null` leaves it out. Default `client-authentication+jwt`. */
  typ?: string | null
}

function assertion({ aud, typ = 'client-authentication+jwt' }: AssertionShape): Promise<string> {
  const header = typ === null ? { alg: 'ES256', kid: 'k1' } : { alg: 'ES256', kid: 'k1', typ }
  return new SignJWT({ jti: randomUUID() })
    .setProtectedHeader(header)
    .setIssuer('jwt-client')
    .setSubject('jwt-client')
    .setAudience(aud)
    .setIssuedAt()
    .setExpirationTime('60s')
    .sign(keys.privateKey)
}

async function tokenRequest(url: string, shape: AssertionShape) {
  return postForm(`${url}/token`, {
    grant_type: 'client_credentials',
    client_assertion_type: JWT_BEARER_ASSERTION_TYPE,
    client_assertion: await assertion(shape),
  })
}

describe('default: assertions written before draft-ietf-oauth-rfc7523bis still work', () => {
  it('accepts the issuer, the token endpoint, and either in an array', async () => {
    const { url } = await server()
    for (const aud of [url, `${url}/token`, [url], [`${url}/token`, 'https://other.example']]) {
      const answer = await tokenRequest(url, { aud, typ: 'JWT' })
      expect(answer.status, JSON.stringify(aud)).toBe(200)
    }
  })

  it('still refuses an audience that is not this server', async () => {
    const { url } = await server()
    expectOAuthError(await tokenRequest(url, { aud: 'https://elsewhere.example' }), 401, 'invalid_client')
  })

  it('accepts the endpoint called as aud at introspection', async () => {
    const { url } = await server(false)
    const answer = await postForm(`${url}/introspect`, {
      token: 'whatever',
      client_assertion_type: JWT_BEARER_ASSERTION_TYPE,
      client_assertion: await assertion({ aud: `${url}/introspect` }),
    })
    expect(answer.status).toBe(200)
  })
})

describe('strictAssertionAudience: the issuer identifier as a single string only', () => {
  it('accepts the issuer as one string, typed, untyped or typ JWT', async () => {
    const { url } = await server(true)
    for (const typ of ['client-authentication+jwt', 'application/Client-Authentication+JWT', 'JWT', null]) {
      const answer = await tokenRequest(url, { aud: url, typ })
      expect(answer.status, String(typ)).toBe(200)
      expect(answer.json.access_token).toEqual(expect.any(String))
    }
  })

  it('refuses the token endpoint as aud', async () => {
    const { url } = await server(true)
    const answer = await tokenRequest(url, { aud: `${url}/token` })
    expectOAuthError(answer, 401, 'invalid_client')
    expect(answer.json.error_description).toBe('the client assertion aud claim is not acceptable')
  })

  it('refuses an array, even one holding the issuer alone', async () => {
    const { url } = await server(true)
    for (const aud of [[url], [url, `${url}/token`]]) {
      const answer = await tokenRequest(url, { aud })
      expectOAuthError(answer, 401, 'invalid_client')
      expect(answer.json.error_description).toBe(
        'the client assertion aud claim must be the issuer identifier, as a single string',
      )
    }
  })

  it('refuses the endpoint called as aud at introspection', async () => {
    const { url } = await server(true)
    const answer = await postForm(`${url}/introspect`, {
      token: 'whatever',
      client_assertion_type: JWT_BEARER_ASSERTION_TYPE,
      client_assertion: await assertion({ aud: `${url}/introspect` }),
    })
    expectOAuthError(answer, 401, 'invalid_client')
  })

  it('refuses a typ naming another kind of JWT (RFC 8725 §3.11)', async () => {
    const { url } = await server(true)
    for (const typ of ['at+jwt', 'dpop+jwt']) {
      const answer = await tokenRequest(url, { aud: url, typ })
      expectOAuthError(answer, 401, 'invalid_client')
      expect(answer.json.error_description).toBe('the client assertion typ header names another kind of JWT')
    }
  })

  it('does not spend the jti of a refused assertion', async () => {
    const { url } = await server(true)
    const refused = await assertion({ aud: [url] })
    const body = {
      grant_type: 'client_credentials',
      client_assertion_type: JWT_BEARER_ASSERTION_TYPE,
      client_assertion: refused,
    }
    expectOAuthError(await postForm(`${url}/token`, body), 401, 'invalid_client')
    // Same refusal, not a replay: the first attempt did not record the jti.
    const again = await postForm(`${url}/token`, body)
    expect(again.json.error_description).toBe(
      'the client assertion aud claim must be the issuer identifier, as a single string',
    )
  })

  it('is a boolean option', async () => {
    await expect(
      createAuthorizationServer({ clients: [], strictAssertionAudience: 'yes' as unknown as boolean }),
    ).rejects.toThrow(ConfigurationError)
    await expect(
      createAuthorizationServer({ clients: [], strictAssertionAudience: 'yes' as unknown as boolean }),
    ).rejects.toThrow(/strictAssertionAudience must be a boolean/)
  })
})
