import { randomUUID } from 'node:crypto'
import { ConfigurationError, JWT_BEARER_ASSERTION_TYPE } from '@oauth-m2m/core'
import { type ClientMetadata, secretDigest } from '@oauth-m2m/server'
import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import { describe, expect, it } from 'vitest'
import { basic, expectOAuthError, postForm, send, startServer } from './test-server.js'

const API = 'https://api.example.test'
const GRANT = { grant_type: 'client_credentials' }

function tokenWith(url: string, clientId: string, secret: string) {
  return postForm(`${url}/token`, GRANT, basic(clientId, secret))
}

/** Starts a server with one client, `seed`, so that the tests change the set while it runs. */
function startWithSeedClient() {
  return startServer({
    clients: [{ client_id: 'seed', client_secret: 'seed-secret', scope: 'read' }],
    resources: [{ resource: API }],
  })
}

function cyclic(): unknown[] {
  const list: unknown[] = ['ops@example.test']
  list.push(list)
  return list
}

function configurationError(action: () => unknown): ConfigurationError {
  try {
    action()
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError)
    return error as ConfigurationError
  }
  throw new Error('expected a ConfigurationError, but nothing was thrown')
}

describe('registerClient', () => {
  it('lets a new client get tokens from the next request on, on the same listener', async () => {
    const { server, url } = await startWithSeedClient()
    expectOAuthError(await tokenWith(url, 'billing', 'billing-secret'), 401, 'invalid_client')

    const shown = server.registerClient({
      client_id: 'billing',
      client_secret: 'billing-secret',
      scope: 'charge',
    })

    expect(shown).toMatchObject({ client_id: 'billing', scope: 'charge' })
    const answer = await tokenWith(url, 'billing', 'billing-secret')
    expect(answer.status).toBe(200)
    expect(answer.json.scope).toBe('charge')
  })

  it('adds the new scopes to scopes_supported in the metadata document', async () => {
    const { server, url } = await startWithSeedClient()
    server.registerClient({ client_id: 'billing', client_secret: 'billing-secret', scope: 'charge' })

    const { json: metadata } = await send(`${url}/.well-known/oauth-authorization-server`)

    expect(metadata.scopes_supported).toEqual(['charge', 'read'])
    expect(server.metadata.scopes_supported).toEqual(['charge', 'read'])
  })

  it('refuses a client_id that is already registered, leaving the registered client as it was', async () => {
    const { server, url } = await startWithSeedClient()

    const error = configurationError(() =>
      server.registerClient({ client_id: 'seed', client_secret: 'other' }),
    )

    expect(error.message).toContain('client_id')
    expect(error.message).not.toContain('other')
    expect((await tokenWith(url, 'seed', 'seed-secret')).status).toBe(200)
    expectOAuthError(await tokenWith(url, 'seed', 'other'), 401, 'invalid_client')
  })

  it.each([
    ['no client_id', { client_secret: 's' }, 'client_id is required'],
    [
      'an unknown auth method',
      { client_id: 'x', token_endpoint_auth_method: 'tls_magic' },
      'token_endpoint_auth_method',
    ],
    ['a secret method without a secret', { client_id: 'x' }, 'client_secret is required'],
    [
      'a scope outside the scope-token grammar',
      { client_id: 'x', client_secret: 's', scope: 'a\nb' },
      'scope',
    ],
    [
      'a resource the server does not know',
      { client_id: 'x', client_secret: 's', resources: ['https://other.test'] },
      'resources[0]',
    ],
    [
      'private_key_jwt without keys',
      { client_id: 'x', token_endpoint_auth_method: 'private_key_jwt' },
      'jwks',
    ],
    [
      'a private key in jwks',
      {
        client_id: 'x',
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [{ kty: 'EC', d: 'x' }] },
      },
      'jwks.keys[0]',
    ],
    [
      'a member that is not JSON',
      { client_id: 'x', client_secret: 's', on_register: () => {} },
      'on_register',
    ],
    [
      'a member that refers to itself',
      { client_id: 'x', client_secret: 's', contacts: cyclic() },
      'contacts',
    ],
    ['not an object', 'client-x', 'client metadata'],
  ])('refuses %s with a ConfigurationError naming the member', async (_case, metadata, field) => {
    const { server, url } = await startWithSeedClient()

    const error = configurationError(() => server.registerClient(metadata as unknown as ClientMetadata))

    expect(error.message).toMatch(/^invalid client metadata: /)
    expect(error.message).toContain(field)
    expect(server.getClient('x')).toBeUndefined()
    expect((await tokenWith(url, 'seed', 'seed-secret')).status).toBe(200)
  })

  it('never puts a secret of refused metadata into the error', async () => {
    const { server } = await startWithSeedClient()

    const error = configurationError(() =>
      server.registerClient({ client_id: 'x', client_secret: 'hunter2-secret', scope: 'bad\tscope' }),
    )

    expect(error.message).not.toContain('hunter2-secret')
    expect(JSON.stringify(error)).not.toContain('hunter2-secret')
  })

  it('registers a private_key_jwt client whose assertions are accepted at once', async () => {
    const { server, url } = await startWithSeedClient()
    const { publicKey, privateKey } = await generateKeyPair('ES256')
    server.registerClient({
      client_id: 'signer',
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' }] },
    })
    const assertion = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuer('signer')
      .setSubject('signer')
      .setAudience(url)
      .setJti(randomUUID())
      .setExpirationTime('1m')
      .sign(privateKey)

    const answer = await postForm(`${url}/token`, {
      ...GRANT,
      client_assertion_type: JWT_BEARER_ASSERTION_TYPE,
      client_assertion: assertion,
    })

    expect(answer.status).toBe(200)
  })
})

describe('updateClient', () => {
  it('rotates a secret without a restart: both secrets during the overlap, then only the new one', async () => {
    const { server, url } = await startServer({
      clients: [{ client_id: 'svc', client_secret: 'old-secret' }],
    })

    server.updateClient({ client_id: 'svc', client_secrets: ['old-secret', 'new-secret'] })
    expect((await tokenWith(url, 'svc', 'old-secret')).status).toBe(200)
    expect((await tokenWith(url, 'svc', 'new-secret')).status).toBe(200)

    server.updateClient({ client_id: 'svc', client_secret: 'new-secret' })
    const refused = expectOAuthError(await tokenWith(url, 'svc', 'old-secret'), 401, 'invalid_client')
    expect(refused.headers.get('www-authenticate')).toMatch(/^Basic realm=/)
    expect((await tokenWith(url, 'svc', 'new-secret')).status).toBe(200)
  })

  it('replaces the whole registration: members left out go back to their defaults', async () => {
    const { server, url } = await startServer({
      clients: [{ client_id: 'svc', client_secret: 's', scope: 'read write' }],
    })

    server.updateClient({ client_id: 'svc', client_secret: 's', scope: 'read' })
    expect((await tokenWith(url, 'svc', 's')).json.scope).toBe('read')
    const widened = await postForm(`${url}/token`, { ...GRANT, scope: 'write' }, basic('svc', 's'))
    expectOAuthError(widened, 400, 'invalid_scope')

    server.updateClient({
      client_id: 'svc',
      client_secret: 's',
      token_endpoint_auth_method: 'client_secret_post',
    })
    expectOAuthError(await tokenWith(url, 'svc', 's'), 401, 'invalid_client')
    const posted = await postForm(`${url}/token`, { ...GRANT, client_id: 'svc', client_secret: 's' })
    expect(posted.status).toBe(200)
  })

  it('throws for a client that is not registered, without registering it', async () => {
    const { server, url } = await startWithSeedClient()

    const error = configurationError(() => server.updateClient({ client_id: 'ghost', client_secret: 'g' }))

    expect(error.message).toContain('not registered')
    expect(server.getClient('ghost')).toBeUndefined()
    expectOAuthError(await tokenWith(url, 'ghost', 'g'), 401, 'invalid_client')
  })

  it('keeps the current registration when the new metadata is refused', async () => {
    const { server, url } = await startWithSeedClient()

    const error = configurationError(() =>
      server.updateClient({
        client_id: 'seed',
        client_secret: 'next',
        grant_types: 'client_credentials' as never,
      }),
    )

    expect(error.message).toContain('grant_types')
    expect((await tokenWith(url, 'seed', 'seed-secret')).status).toBe(200)
    expectOAuthError(await tokenWith(url, 'seed', 'next'), 401, 'invalid_client')
  })

  it('still refuses a replayed client assertion after the client was updated', async () => {
    const hmacSecret = 'an-hmac-secret-that-is-long-enough-for-hs256-0123456789'
    const { server, url } = await startServer({
      clients: [
        { client_id: 'hs', client_secret: hmacSecret, token_endpoint_auth_method: 'client_secret_jwt' },
      ],
    })
    const assertion = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('hs')
      .setSubject('hs')
      .setAudience(url)
      .setJti(randomUUID())
      .setExpirationTime('1m')
      .sign(new TextEncoder().encode(hmacSecret))
    const body = { ...GRANT, client_assertion_type: JWT_BEARER_ASSERTION_TYPE, client_assertion: assertion }
    expect((await postForm(`${url}/token`, body)).status).toBe(200)

    server.updateClient({
      client_id: 'hs',
      client_secrets: [hmacSecret, 'a-second-hmac-secret-long-enough-for-hs256-abcdef'],
      token_endpoint_auth_method: 'client_secret_jwt',
    })

    const replayed = expectOAuthError(await postForm(`${url}/token`, body), 401, 'invalid_client')
    expect(replayed.json.error_description).toContain('jti')
  })

  it('keeps counting failed authentications across an update (brute-force protection is per client_id)', async () => {
    const { server, url } = await startServer({
      clients: [{ client_id: 'svc', client_secret: 'right' }],
      rateLimit: { maxFailures: 2, windowMs: 60_000 },
    })
    expectOAuthError(await tokenWith(url, 'svc', 'guess-1'), 401, 'invalid_client')
    expectOAuthError(await tokenWith(url, 'svc', 'guess-2'), 401, 'invalid_client')

    server.updateClient({ client_id: 'svc', client_secrets: ['right', 'guess-3'] })

    const blocked = expectOAuthError(await tokenWith(url, 'svc', 'guess-3'), 429, 'invalid_client')
    expect(blocked.headers.get('retry-after')).toMatch(/^\d+$/)
  })
})

describe('removeClient', () => {
  it('refuses the removed client from the next request on', async () => {
    const { server, url } = await startWithSeedClient()
    expect((await tokenWith(url, 'seed', 'seed-secret')).status).toBe(200)

    expect(server.removeClient('seed')).toBe(true)

    expectOAuthError(await tokenWith(url, 'seed', 'seed-secret'), 401, 'invalid_client')
    expect(server.getClient('seed')).toBeUndefined()
    expect(server.removeClient('seed')).toBe(false)
    expect(server.removeClient('never-registered')).toBe(false)
  })

  it('leaves tokens issued before the removal valid until they expire', async () => {
    const { server, url } = await startServer({
      clients: [
        { client_id: 'leaving', client_secret: 'l' },
        { client_id: 'api', client_secret: 'a' },
      ],
    })
    const token = (await tokenWith(url, 'leaving', 'l')).json.access_token as string

    server.removeClient('leaving')

    const introspected = await postForm(`${url}/introspect`, { token }, basic('api', 'a'))
    expect(introspected.json).toMatchObject({ active: true, client_id: 'leaving' })
  })

  it('lets the client_id be registered again, with new credentials only', async () => {
    const { server, url } = await startWithSeedClient()
    server.removeClient('seed')

    server.registerClient({ client_id: 'seed', client_secret: 'fresh-secret' })

    expect((await tokenWith(url, 'seed', 'fresh-secret')).status).toBe(200)
    expectOAuthError(await tokenWith(url, 'seed', 'seed-secret'), 401, 'invalid_client')
  })
})

describe('getClient', () => {
  it('shows the registration with defaults filled in and no secret material', async () => {
    const { server } = await startServer({
      clients: [
        {
          client_id: 'svc',
          client_secret: 'clear-secret-1',
          client_secrets: ['clear-secret-2'],
          client_secret_hash: secretDigest('hashed-secret-3'),
          scope: 'read',
          client_name: 'Service',
        },
      ],
      resources: [{ resource: API }],
    })
    server.registerClient({
      client_id: 'runtime',
      client_secrets: ['clear-secret-4', 'clear-secret-5'],
      resources: [API],
    })

    const configured = server.getClient('svc')
    const registered = server.getClient('runtime')

    expect(configured).toEqual({
      client_id: 'svc',
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['client_credentials'],
      scope: 'read',
      client_name: 'Service',
    })
    expect(registered).toEqual({
      client_id: 'runtime',
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['client_credentials'],
      resources: [API],
    })
    const updated = server.updateClient({ client_id: 'svc', client_secret: 'clear-secret-6' })
    for (const view of [configured, registered, updated]) {
      expect(Object.keys(view ?? {})).not.toEqual(
        expect.arrayContaining([expect.stringMatching(/^client_secret(s|_hash)?$/)]),
      )
    }
    const shown = JSON.stringify([configured, registered, updated])
    for (const secret of [
      'clear-secret-1',
      'clear-secret-2',
      'hashed-secret-3',
      'clear-secret-4',
      'clear-secret-5',
      'clear-secret-6',
    ]) {
      expect(shown).not.toContain(secret)
    }
    expect(shown).not.toContain(secretDigest('hashed-secret-3'))
  })

  it('hands out copies: neither the caller’s object nor the returned one can change the registration', async () => {
    const { server, url } = await startWithSeedClient()
    const metadata: ClientMetadata = { client_id: 'svc', client_secret: 's', scope: 'read' }
    server.registerClient(metadata)

    metadata.scope = 'admin'
    const shown = server.getClient('svc')
    if (shown === undefined) throw new Error('svc is registered')
    shown.scope = 'admin'

    expect(server.getClient('svc')?.scope).toBe('read')
    expect((await tokenWith(url, 'svc', 's')).json.scope).toBe('read')
  })

  it('returns undefined for an unknown client', async () => {
    const { server } = await startWithSeedClient()

    expect(server.getClient('nobody')).toBeUndefined()
  })
})
