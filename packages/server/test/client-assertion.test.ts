import { randomUUID } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { clientSecretJwt, JWT_BEARER_ASSERTION_TYPE, privateKeyJwt } from '@oauth-m2m/core'
import type { AuthorizationServerConfig } from '@oauth-m2m/server'
import {
  type CryptoKey,
  exportJWK,
  exportSPKI,
  type GenerateKeyPairResult,
  generateKeyPair,
  type JWTPayload,
  SignJWT,
} from 'jose'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { expectOAuthError, postForm, startServer } from './test-server.js'

const HMAC_SECRET = 'an-hmac-secret-that-is-long-enough-for-hs512-0123456789abcdef'
let ecKeys: GenerateKeyPairResult
let rsaKeys: GenerateKeyPairResult
let otherEcKeys: GenerateKeyPairResult
const jwksServers: Server[] = []

beforeAll(async () => {
  ecKeys = await generateKeyPair('ES256', { extractable: true })
  rsaKeys = await generateKeyPair('RS256', { extractable: true })
  otherEcKeys = await generateKeyPair('ES256', { extractable: true })
})

afterEach(async () => {
  await Promise.all(jwksServers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))))
})

/** A tiny JWKS endpoint on loopback, counting its requests. */
async function serveJwks(keys: object[]): Promise<{ uri: string; hits: () => number }> {
  let hits = 0
  const server = createServer((_req, res) => {
    hits++
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ keys }))
  })
  jwksServers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { uri: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`, hits: () => hits }
}

async function assertionServer(
  extraClients: object[] = [],
  options: Partial<AuthorizationServerConfig> = {},
) {
  const ecJwk = { ...(await exportJWK(ecKeys.publicKey)), kid: 'ec-1' }
  const rsaJwk = { ...(await exportJWK(rsaKeys.publicKey)), kid: 'rsa-1' }
  const { url } = await startServer({
    clients: [
      {
        client_id: 'hs-client',
        client_secret: HMAC_SECRET,
        token_endpoint_auth_method: 'client_secret_jwt',
        token_endpoint_auth_signing_alg: 'HS256',
        scope: 'read',
      },
      {
        client_id: 'pk-client',
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [ecJwk] },
        scope: 'read',
      },
      {
        client_id: 'rsa-client',
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [rsaJwk] },
        scope: 'read',
      },
      { client_id: 'basic-client', client_secret: 'basic-secret', scope: 'read' },
      ...extraClients,
    ] as never,
    ...options,
  })
  return { url, token: `${url}/token` }
}

function claims(
  clientId: string,
  aud: string,
  overrides: Partial<Record<keyof JWTPayload, unknown>> = {},
): JWTPayload {
  const now = Math.floor(Date.now() / 1000)
  const payload: Record<string, unknown> = {
    iss: clientId,
    sub: clientId,
    aud,
    jti: randomUUID(),
    iat: now,
    exp: now + 60,
  }
  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined) delete payload[name]
    else payload[name] = value
  }
  return payload
}

async function signEs256(payload: JWTPayload, key: CryptoKey = ecKeys.privateKey): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg: 'ES256', kid: 'ec-1' }).sign(key)
}

function assertionForm(assertion: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    grant_type: 'client_credentials',
    client_assertion_type: JWT_BEARER_ASSERTION_TYPE,
    client_assertion: assertion,
    ...extra,
  }
}

describe('client_secret_jwt and private_key_jwt (RFC 7523 §3)', () => {
  it('accepts a client_secret_jwt assertion made by the core strategy', async () => {
    const { token, url } = await assertionServer()
    const body = new URLSearchParams({ grant_type: 'client_credentials' })
    await clientSecretJwt(HMAC_SECRET).apply(
      { headers: {}, body },
      { clientId: 'hs-client', endpoint: token, issuer: url },
    )
    const answer = await postForm(token, body.toString())
    expect(answer.status).toBe(200)
  })

  it('accepts a private_key_jwt assertion made by the core strategy, with aud = token endpoint', async () => {
    const { token } = await assertionServer()
    const body = new URLSearchParams({ grant_type: 'client_credentials' })
    const strategy = privateKeyJwt(ecKeys.privateKey, { kid: 'ec-1' })
    await strategy.apply(
      { headers: {}, body },
      { clientId: 'pk-client', endpoint: token, tokenEndpoint: token },
    )
    expect((await postForm(token, body.toString())).status).toBe(200)
  })

  it('accepts aud = issuer and an assertion without client_id in the body', async () => {
    const { token, url } = await assertionServer()
    const answer = await postForm(token, assertionForm(await signEs256(claims('pk-client', url))))
    expect(answer.status).toBe(200)
  })

  it('accepts private_key_jwt with keys from the client jwks_uri', async () => {
    const remote = await serveJwks([
      { ...(await exportJWK(otherEcKeys.publicKey)), kid: 'remote-1', alg: 'ES256' },
    ])
    const { token } = await assertionServer([
      {
        client_id: 'remote-client',
        token_endpoint_auth_method: 'private_key_jwt',
        jwks_uri: remote.uri,
        scope: 'read',
      },
    ])
    const sign = (payload: JWTPayload) =>
      new SignJWT(payload).setProtectedHeader({ alg: 'ES256', kid: 'remote-1' }).sign(otherEcKeys.privateKey)
    expect((await postForm(token, assertionForm(await sign(claims('remote-client', token))))).status).toBe(
      200,
    )
    expect((await postForm(token, assertionForm(await sign(claims('remote-client', token))))).status).toBe(
      200,
    )
    expect(remote.hits()).toBe(1)
    // A key the client did not publish is refused.
    const forged = await new SignJWT(claims('remote-client', token))
      .setProtectedHeader({ alg: 'ES256', kid: 'remote-1' })
      .sign(ecKeys.privateKey)
    expectOAuthError(await postForm(token, assertionForm(forged)), 401, 'invalid_client')
  })

  it('refuses a client whose jwks_uri cannot be fetched with invalid_client, not a 5xx', async () => {
    const remote = await serveJwks([])
    const closed = remote.uri
    await Promise.all(jwksServers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))))
    const { token } = await assertionServer([
      {
        client_id: 'down-client',
        token_endpoint_auth_method: 'private_key_jwt',
        jwks_uri: closed,
        scope: 'read',
      },
    ])
    const answer = await postForm(token, assertionForm(await signEs256(claims('down-client', token))))
    expectOAuthError(answer, 401, 'invalid_client')
  })

  it('refuses a wrong client_assertion_type with invalid_request', async () => {
    const { token } = await assertionServer()
    const form = assertionForm(await signEs256(claims('pk-client', token)), {
      client_assertion_type: 'urn:wrong',
    })
    expectOAuthError(await postForm(token, form), 400, 'invalid_request')
  })

  it('refuses client_assertion_type without client_assertion with invalid_request', async () => {
    const { token } = await assertionServer()
    const answer = await postForm(token, {
      grant_type: 'client_credentials',
      client_assertion_type: JWT_BEARER_ASSERTION_TYPE,
    })
    expectOAuthError(answer, 400, 'invalid_request')
  })

  it('refuses an assertion that is not a JWT', async () => {
    const { token } = await assertionServer()
    expectOAuthError(await postForm(token, assertionForm('not-a-jwt')), 401, 'invalid_client')
  })

  it.each(['exp', 'jti', 'iss', 'sub', 'aud'])('refuses an assertion without %s', async (claim) => {
    const { token } = await assertionServer()
    const form = assertionForm(await signEs256(claims('pk-client', token, { [claim]: undefined })), {
      client_id: 'pk-client',
    })
    const answer = expectOAuthError(await postForm(token, form), 401, 'invalid_client')
    expect(answer.json.error_description).toContain(claim)
  })

  it('refuses an assertion whose iss is not the client_id', async () => {
    const { token } = await assertionServer()
    const form = assertionForm(await signEs256(claims('pk-client', token, { iss: 'someone-else' })), {
      client_id: 'pk-client',
    })
    const answer = expectOAuthError(await postForm(token, form), 401, 'invalid_client')
    expect(answer.json.error_description).toContain('iss')
  })

  it('refuses an assertion whose sub is not the client_id', async () => {
    const { token } = await assertionServer()
    const form = assertionForm(await signEs256(claims('pk-client', token, { sub: 'someone-else' })))
    expectOAuthError(await postForm(token, form), 401, 'invalid_client')
  })

  it('refuses an assertion for another audience', async () => {
    const { token } = await assertionServer()
    const form = assertionForm(await signEs256(claims('pk-client', 'https://elsewhere.example.com/token')))
    const answer = expectOAuthError(await postForm(token, form), 401, 'invalid_client')
    expect(answer.json.error_description).toContain('aud')
  })

  it('refuses an expired assertion', async () => {
    const { token } = await assertionServer()
    const now = Math.floor(Date.now() / 1000)
    const form = assertionForm(
      await signEs256(claims('pk-client', token, { iat: now - 600, exp: now - 300 })),
    )
    const answer = expectOAuthError(await postForm(token, form), 401, 'invalid_client')
    expect(answer.json.error_description).toContain('expired')
  })

  it('accepts nbf and iat ahead of its clock within clockToleranceSec (default 30), not beyond', async () => {
    const now = Math.floor(Date.now() / 1000)
    const ahead = (token: string) =>
      claims('pk-client', token, { nbf: now + 20, iat: now + 20, exp: now + 80 })
    const lenient = await assertionServer()
    expect((await postForm(lenient.token, assertionForm(await signEs256(ahead(lenient.token))))).status).toBe(
      200,
    )
    const strict = await assertionServer([], { clockToleranceSec: 5 })
    const answer = await postForm(strict.token, assertionForm(await signEs256(ahead(strict.token))))
    expect(expectOAuthError(answer, 401, 'invalid_client').json.error_description).toContain('nbf')
  })

  it('refuses an assertion that expires too far ahead', async () => {
    const { token } = await assertionServer()
    const now = Math.floor(Date.now() / 1000)
    const form = assertionForm(await signEs256(claims('pk-client', token, { exp: now + 7200 })))
    expectOAuthError(await postForm(token, form), 401, 'invalid_client')
  })

  it('refuses a replayed assertion (same jti)', async () => {
    const { token } = await assertionServer()
    const form = assertionForm(await signEs256(claims('pk-client', token)))
    expect((await postForm(token, form)).status).toBe(200)
    const answer = expectOAuthError(await postForm(token, form), 401, 'invalid_client')
    expect(answer.json.error_description).toContain('replay')
  })

  it('refuses an algorithm the client did not register', async () => {
    const { token } = await assertionServer()
    const assertion = await new SignJWT(claims('hs-client', token))
      .setProtectedHeader({ alg: 'HS384' })
      .sign(new TextEncoder().encode(HMAC_SECRET))
    const answer = expectOAuthError(await postForm(token, assertionForm(assertion)), 401, 'invalid_client')
    expect(answer.json.error_description).toContain('alg')
  })

  it('refuses an asymmetric algorithm for client_secret_jwt', async () => {
    const { token } = await assertionServer()
    const assertion = await new SignJWT(claims('hs-client', token))
      .setProtectedHeader({ alg: 'ES256' })
      .sign(ecKeys.privateKey)
    expectOAuthError(await postForm(token, assertionForm(assertion)), 401, 'invalid_client')
  })

  it('refuses an assertion signed with the wrong secret', async () => {
    const { token } = await assertionServer()
    const assertion = await new SignJWT(claims('hs-client', token))
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode(`${HMAC_SECRET}-wrong`))
    const answer = expectOAuthError(await postForm(token, assertionForm(assertion)), 401, 'invalid_client')
    expect(answer.json.error_description).toContain('signature')
  })

  it('refuses alg: none', async () => {
    const { token } = await assertionServer()
    const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url')
    const unsigned = `${encode({ alg: 'none' })}.${encode(claims('pk-client', token))}.`
    expectOAuthError(await postForm(token, assertionForm(unsigned)), 401, 'invalid_client')
  })

  it('refuses HS256 signed with the registered public key (algorithm confusion)', async () => {
    const { token } = await assertionServer()
    const publicPem = await exportSPKI(rsaKeys.publicKey)
    const assertion = await new SignJWT(claims('rsa-client', token))
      .setProtectedHeader({ alg: 'HS256', kid: 'rsa-1' })
      .sign(new TextEncoder().encode(publicPem))
    expectOAuthError(await postForm(token, assertionForm(assertion)), 401, 'invalid_client')
  })

  it('refuses an assertion from a client registered for client_secret_basic', async () => {
    const { token } = await assertionServer()
    const assertion = await new SignJWT(claims('basic-client', token))
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode('basic-secret'))
    expectOAuthError(await postForm(token, assertionForm(assertion)), 401, 'invalid_client')
  })

  it('refuses an assertion together with Basic credentials', async () => {
    const { token } = await assertionServer()
    const form = assertionForm(await signEs256(claims('pk-client', token)))
    const answer = await postForm(token, form, {
      authorization: `Basic ${Buffer.from('pk-client:x').toString('base64')}`,
    })
    expectOAuthError(answer, 400, 'invalid_request')
  })
})
