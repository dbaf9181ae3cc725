/**
 * End to end over real loopback HTTP: tokens minted by the reference authorization server
 * (`@oauth-m2m/server`) verify through discovery, the JWKS and introspection — JWT and opaque,
 * each signing algorithm the server offers, and across `rotateSigningKey()`.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import {
  clientSecretBasic,
  clientSecretJwt,
  clientSecretPost,
  JWKS_FETCH_CHANNEL,
  type JwksFetchEvent,
} from '@oauth-m2m/core'
import { encodeBasicCredentials } from '@oauth-m2m/core/internal'
import {
  type AuthorizationServer,
  createAuthorizationServer,
  type ListeningServer,
  type SigningAlg,
} from '@oauth-m2m/server'
import {
  createVerifier,
  InsufficientScopeError,
  InvalidTokenError,
  type VerifierOptions,
} from '@oauth-m2m/verifier'
import { request } from 'undici'
import { afterEach, describe, expect, it, vi } from 'vitest'

const JWT_API = 'https://api.b.example'
const OPAQUE_API = 'https://api.opaque.example'
const SIGNING_ALGS: SigningAlg[] = ['ES256', 'RS256', 'PS256', 'EdDSA']
const JWT_CLIENT_SECRET = 'a-client-secret-of-at-least-thirty-two-bytes'

let server: AuthorizationServer | undefined
let listening: ListeningServer | undefined

afterEach(async () => {
  await listening?.close()
  listening = undefined
  server = undefined
})

async function startServer(alg: SigningAlg = 'ES256'): Promise<string> {
  server = await createAuthorizationServer({
    clients: [
      { client_id: 'service-a', client_secret: 'secret-a', scope: 'read:things write:things' },
      { client_id: 'api-b', client_secret: 'secret-b', scope: '' },
      {
        client_id: 'api-post',
        client_secret: 'secret-post',
        token_endpoint_auth_method: 'client_secret_post',
        scope: '',
      },
      {
        client_id: 'api-jwt',
        client_secret: JWT_CLIENT_SECRET,
        token_endpoint_auth_method: 'client_secret_jwt',
        scope: '',
      },
    ],
    resources: [{ resource: JWT_API }, { resource: OPAQUE_API, tokenFormat: 'opaque' }],
    signing: { alg },
    rateLimit: false,
  })
  listening = await server.listen({ port: 0, host: '127.0.0.1' })
  return listening.url
}

async function post(url: string, form: Record<string, string>, clientId: string, secret: string) {
  const res = await request(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: encodeBasicCredentials(clientId, secret),
    },
    body: new URLSearchParams(form).toString(),
  })
  const text = await res.body.text() // RFC 7009: a revocation answers 200 with an empty body
  return { status: res.statusCode, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> }
}

async function getToken(issuer: string, resource: string, scope = 'read:things'): Promise<string> {
  const { status, body } = await post(
    `${issuer}/token`,
    { grant_type: 'client_credentials', scope, resource },
    'service-a',
    'secret-a',
  )
  expect(status).toBe(200)
  return body.access_token as string
}

async function revoke(issuer: string, token: string): Promise<void> {
  const { status } = await post(`${issuer}/revoke`, { token }, 'service-a', 'secret-a')
  expect(status).toBe(200)
}

function verifierFor(issuer: string, overrides: Partial<VerifierOptions> = {}) {
  return createVerifier({ issuer, audience: JWT_API, ...overrides })
}

describe('JWT access tokens from the reference server', () => {
  it.each(SIGNING_ALGS)('signed with %s verify through discovery and the JWKS', async (alg) => {
    const issuer = await startServer(alg)
    const verifier = verifierFor(issuer)
    const token = await getToken(issuer, JWT_API, 'read:things write:things')
    const principal = await verifier.verify(token, { requiredScopes: ['read:things'] })
    expect(principal).toMatchObject({
      clientId: 'service-a',
      issuer,
      audience: [JWT_API],
      scopes: ['read:things', 'write:things'],
      source: 'jwt',
    })
    expect(principal.expiresAt).toBeGreaterThan(Date.now())
    await verifier.close()
  })

  it('are refused for another audience and for a scope they lack', async () => {
    const issuer = await startServer()
    const token = await getToken(issuer, JWT_API)
    await expect(verifierFor(issuer, { audience: 'https://api.c.example' }).verify(token)).rejects.toThrow(
      InvalidTokenError,
    )
    await expect(verifierFor(issuer).verify(token, { requiredScopes: ['write:things'] })).rejects.toThrow(
      InsufficientScopeError,
    )
  })

  it.each([
    ['ES256', 'ES256'],
    ['ES256', 'RS256'],
    ['RS256', 'EdDSA'],
    ['PS256', 'ES256'],
  ] as [SigningAlg, SigningAlg][])('verify after rotateSigningKey() from %s to %s', async (from, to) => {
    const issuer = await startServer(from)
    // Default JWKS cooldown: the new key is seen at once, whether pre-published (same alg) or not.
    const verifier = verifierFor(issuer, { tokenCache: false })
    const before = await getToken(issuer, JWT_API)
    await verifier.verify(before)

    const newKey = await server!.rotateSigningKey(to)
    const after = await getToken(issuer, JWT_API)
    expect(JSON.parse(Buffer.from(after.split('.')[0]!, 'base64url').toString())).toMatchObject({
      kid: newKey.kid,
      alg: to,
    })
    await expect(verifier.verify(after)).resolves.toMatchObject({ clientId: 'service-a' })
    // Tokens signed before the rotation stay valid until they expire.
    await expect(verifier.verify(before)).resolves.toMatchObject({ clientId: 'service-a' })
  })

  it('verify after a rotation to the pre-published next key without refetching the JWKS', async () => {
    const issuer = await startServer('ES256')
    const verifier = verifierFor(issuer, { tokenCache: false })
    const fetches: JwksFetchEvent[] = []
    const onFetch = (event: unknown) => fetches.push(event as JwksFetchEvent)
    subscribe(JWKS_FETCH_CHANNEL, onFetch)
    try {
      await verifier.verify(await getToken(issuer, JWT_API))
      await server!.rotateSigningKey() // keeps ES256: promotes the key already on /jwks
      await expect(verifier.verify(await getToken(issuer, JWT_API))).resolves.toMatchObject({
        clientId: 'service-a',
      })
      expect(fetches.map((f) => f.reason)).toEqual(['initial'])
    } finally {
      unsubscribe(JWKS_FETCH_CHANNEL, onFetch)
    }
  })
})

describe('opaque access tokens from the reference server', () => {
  function introspectingVerifier(issuer: string, overrides: Partial<VerifierOptions['introspection']> = {}) {
    return createVerifier({
      issuer,
      audience: OPAQUE_API,
      introspection: { clientId: 'api-b', auth: clientSecretBasic('secret-b'), ...overrides },
    })
  }

  it('verify through introspection found by discovery', async () => {
    const issuer = await startServer()
    const token = await getToken(issuer, OPAQUE_API)
    expect(token.split('.')).toHaveLength(1)
    const principal = await introspectingVerifier(issuer).verify(token, { requiredScopes: ['read:things'] })
    expect(principal).toMatchObject({
      clientId: 'service-a',
      issuer,
      audience: [OPAQUE_API],
      scopes: ['read:things'],
      source: 'introspection',
    })
  })

  it.each([
    ['client_secret_post', { clientId: 'api-post', auth: clientSecretPost('secret-post') }],
    ['client_secret_jwt', { clientId: 'api-jwt', auth: clientSecretJwt(JWT_CLIENT_SECRET) }],
  ])('verify with the resource server authenticated by %s', async (_method, credentials) => {
    const issuer = await startServer()
    const token = await getToken(issuer, OPAQUE_API)
    await expect(introspectingVerifier(issuer, credentials).verify(token)).resolves.toMatchObject({
      clientId: 'service-a',
      source: 'introspection',
    })
  })

  it('are refused once revoked, after the introspection cache bound', async () => {
    const issuer = await startServer()
    const token = await getToken(issuer, OPAQUE_API)
    const verifier = introspectingVerifier(issuer, { maxTtlMs: 200 })
    await verifier.verify(token)
    await revoke(issuer, token)
    await vi.waitFor(() => expect(verifier.verify(token)).rejects.toThrow('the token is not active'), {
      timeout: 5000,
      interval: 50,
    })
  })

  it('are refused when the resource server’s own credentials are wrong, as a 503 and not a 401', async () => {
    const issuer = await startServer()
    const token = await getToken(issuer, OPAQUE_API)
    await expect(
      introspectingVerifier(issuer, { auth: clientSecretBasic('wrong-secret') }).verify(token),
    ).rejects.toMatchObject({ status: 503, error: 'temporarily_unavailable' })
  })
})

describe("JWTs with introspection mode 'all'", () => {
  it('are refused once revoked at the server', async () => {
    const issuer = await startServer()
    const token = await getToken(issuer, JWT_API)
    const verifier = verifierFor(issuer, {
      introspection: { clientId: 'api-b', auth: clientSecretBasic('secret-b'), mode: 'all', maxTtlMs: 200 },
    })
    await expect(verifier.verify(token)).resolves.toMatchObject({ source: 'introspection' })
    await revoke(issuer, token)
    await vi.waitFor(() => expect(verifier.verify(token)).rejects.toThrow('the token is not active'), {
      timeout: 5000,
      interval: 50,
    })
  })
})
