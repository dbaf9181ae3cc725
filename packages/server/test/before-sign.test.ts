import { ConfigurationError } from '@oauth-m2m/core'
import { type BeforeSignContext, type BeforeSignHook, createAuthorizationServer } from '@oauth-m2m/server'
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose'
import { describe, expect, it, vi } from 'vitest'
import type { RegisteredClient } from '../src/client-registry.js'
import { MemoryServerStore } from '../src/server-store.js'
import { SigningKeySet } from '../src/signing/signing-key-set.js'
import { AccessTokenIssuer } from '../src/token-issuer.js'
import { basic, expectOAuthError, postForm, startServer } from './test-server.js'

const API = 'https://api.example.test'
const OPAQUE_API = 'https://opaque.example.test'
const SECRET = 'svc-secret-do-not-leak'

async function server(beforeSign: BeforeSignHook | undefined, onInternalError = vi.fn()) {
  const running = await startServer({
    clients: [
      {
        client_id: 'svc',
        client_secret: SECRET,
        scope: 'read write',
        token_endpoint_auth_method: 'client_secret_post',
      },
      { client_id: 'rs', client_secret: 'rs-secret' },
    ],
    resources: [{ resource: API }, { resource: OPAQUE_API, tokenFormat: 'opaque' }],
    ...(beforeSign ? { beforeSign } : {}),
    onInternalError,
  })
  const token = (extra: Record<string, string> = {}) =>
    postForm(`${running.url}/token`, {
      grant_type: 'client_credentials',
      client_id: 'svc',
      client_secret: SECRET,
      ...extra,
    })
  const introspect = (accessToken: string) =>
    postForm(`${running.url}/introspect`, { token: accessToken }, basic('rs', 'rs-secret'))
  return { ...running, token, introspect, onInternalError }
}

describe('beforeSign', () => {
  it('is told the client, scopes, resources, form parameters without credentials, claims and format', async () => {
    const contexts: BeforeSignContext[] = []
    const { token, url } = await server((context) => {
      contexts.push(context)
      return undefined
    })
    const answer = await token({ scope: 'read', resource: API, audience: 'custom-param' })
    expect(answer.status).toBe(200)
    expect(contexts).toHaveLength(1)
    const context = contexts[0]!
    expect(context.client).toMatchObject({ client_id: 'svc', scope: 'read write' })
    expect(JSON.stringify(context)).not.toContain(SECRET)
    expect(context.scopes).toEqual(['read'])
    expect(context.resources).toEqual([API])
    expect(context.params).toEqual({
      grant_type: 'client_credentials',
      client_id: 'svc',
      scope: 'read',
      resource: API,
      audience: 'custom-param',
    })
    expect(context.format).toBe('jwt')
    expect(context.claims).toEqual(decodeJwt(answer.json.access_token))
    expect(context.claims).toMatchObject({ iss: url, sub: 'svc', client_id: 'svc', aud: API, scope: 'read' })
  })

  it('merges the returned claims over a JWT: added, overridden, and removed with undefined', async () => {
    const { token, url, introspect } = await server(async ({ client }) => ({
      azp: client.client_id,
      roles: ['admin'],
      aud: 'api://overridden',
      scope: undefined,
    }))
    const answer = await token({ scope: 'read' })
    expect(answer.status).toBe(200)
    const { payload } = await jwtVerify(
      answer.json.access_token,
      createRemoteJWKSet(new URL(`${url}/jwks`)),
      {
        issuer: url,
        audience: 'api://overridden',
        typ: 'at+jwt',
      },
    )
    expect(payload).toMatchObject({ azp: 'svc', roles: ['admin'], sub: 'svc', client_id: 'svc' })
    expect(payload).not.toHaveProperty('scope')
    // The server's own introspection knows the shaped JWT and answers its claims.
    const introspection = await introspect(answer.json.access_token)
    expect(introspection.json).toMatchObject({
      active: true,
      azp: 'svc',
      roles: ['admin'],
      aud: 'api://overridden',
    })
    expect(introspection.json).not.toHaveProperty('scope')
  })

  it('shapes opaque tokens: the stored claims, which introspection answers', async () => {
    const formats: string[] = []
    const { token, introspect } = await server(({ format }) => {
      formats.push(format)
      return { tenant: 't-1', client_id: undefined }
    })
    const answer = await token({ resource: OPAQUE_API })
    expect(answer.status).toBe(200)
    expect(formats).toEqual(['opaque'])
    const introspection = await introspect(answer.json.access_token)
    expect(introspection.json).toMatchObject({ active: true, tenant: 't-1', sub: 'svc', aud: OPAQUE_API })
    expect(introspection.json).not.toHaveProperty('client_id')
  })

  it.each([
    [
      'throws',
      () => {
        throw new Error(`hook failed holding ${SECRET}`)
      },
    ],
    [
      'rejects',
      async () => {
        throw new Error(`hook failed holding ${SECRET}`)
      },
    ],
    ['returns something that is not an object', () => 'claims' as unknown as Record<string, unknown>],
  ])(
    'answers 500 server_error through onInternalError when the hook %s, leaking nothing',
    async (_, hook) => {
      const { token, onInternalError } = await server(hook)
      const answer = expectOAuthError(await token(), 500, 'server_error')
      expect(answer.text).not.toContain(SECRET)
      expect(answer.text).not.toContain('hook failed')
      expect(onInternalError).toHaveBeenCalledTimes(1)
      expect(onInternalError.mock.calls[0]![0]).toBeInstanceOf(Error)
    },
  )

  it('is refused when it is not a function', async () => {
    const error = await createAuthorizationServer({ clients: [], beforeSign: 'x' as never }).catch((e) => e)
    expect(error).toBeInstanceOf(ConfigurationError)
    expect(error.message).toContain('beforeSign must be a function')
  })
})

describe('the token endpoint fast path', () => {
  const client = {
    id: 'svc',
    publicMetadata: { client_id: 'svc', token_endpoint_auth_method: 'client_secret_basic', grant_types: [] },
  } as unknown as RegisteredClient
  const target = { audience: API, format: 'jwt', lifetimeSec: 60 } as const

  async function issuer(beforeSign: BeforeSignHook | undefined) {
    return new AccessTokenIssuer({
      issuer: 'https://as.example.test',
      keys: await SigningKeySet.create(),
      store: new MemoryServerStore(),
      now: Date.now,
      typ: 'at+jwt',
      beforeSign,
    })
  }

  it('signs a JWT synchronously when no hook is configured, and waits for the hook when one is', async () => {
    const plain = (await issuer(undefined)).issue(client, 'read', target, new Map())
    expect(typeof plain).toBe('string')
    const shaped = (await issuer(() => ({ extra: 1 }))).issue(client, 'read', target, new Map())
    expect(shaped).toBeInstanceOf(Promise)
    expect(decodeJwt(await shaped)).toMatchObject({ extra: 1, scope: 'read' })
  })
})
