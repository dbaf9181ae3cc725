/**
 * `oauth-m2m:server:request`: every answered request published as plain data with the endpoint it
 * was routed to, with or without an `onRequest` hook, from `listen()` and from `handle()`.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { encodeBasicCredentials } from '@oauth-m2m/core/internal'
import {
  createAuthorizationServer,
  type RequestLogEntry,
  SERVER_REQUEST_CHANNEL,
  type ServerRequestEvent,
} from '@oauth-m2m/server'
import { afterEach, describe, expect, it } from 'vitest'
import { EndpointNames } from '../src/endpoint-names.js'
import { endpointLocations } from '../src/metadata.js'
import { basic, FORM, postForm, send, startServer } from './test-server.js'

const SECRET = 'request-channel-secret-value-0123456789'

const listeners: ((event: unknown) => void)[] = []
afterEach(() => {
  for (const listener of listeners.splice(0)) unsubscribe(SERVER_REQUEST_CHANNEL, listener)
})

/** Every event published from now until the end of the test. */
function recordEvents(): ServerRequestEvent[] {
  const events: ServerRequestEvent[] = []
  const listener = (event: unknown) => events.push(event as ServerRequestEvent)
  subscribe(SERVER_REQUEST_CHANNEL, listener)
  listeners.push(listener)
  return events
}

describe('oauth-m2m:server:request', () => {
  it('publishes each request of a listening server, by endpoint, without an onRequest hook', async () => {
    const events = recordEvents()
    const { url } = await startServer({
      clients: [
        { client_id: 'basic-client', client_secret: SECRET, scope: 'read' },
        { client_id: 'post-client', client_secret: SECRET, token_endpoint_auth_method: 'client_secret_post' },
      ],
    })
    const token = await postForm(`${url}/token`, {
      grant_type: 'client_credentials',
      client_id: 'post-client',
      client_secret: SECRET,
    })
    expect(token.status).toBe(200)
    const accessToken: string = token.json.access_token
    await postForm(`${url}/introspect`, { token: accessToken }, basic('basic-client', SECRET))
    await postForm(`${url}/revoke`, { token: accessToken }, basic('basic-client', 'wrong-secret-value'))
    await send(`${url}/jwks?access_token=${accessToken}`)
    await send(`${url}/.well-known/oauth-authorization-server`)
    await send(`${url}/healthz`)
    await send(`${url}/readyz`)
    await send(`${url}/nowhere`)

    expect(events.map((e) => [e.endpoint, e.path, e.status, e.error, e.clientId, e.authMethod])).toEqual([
      ['token', '/token', 200, undefined, 'post-client', 'client_secret_post'],
      ['introspection', '/introspect', 200, undefined, 'basic-client', 'client_secret_basic'],
      ['revocation', '/revoke', 401, 'invalid_client', 'basic-client', 'client_secret_basic'],
      ['jwks', '/jwks', 200, undefined, undefined, undefined],
      ['metadata', '/.well-known/oauth-authorization-server', 200, undefined, undefined, undefined],
      ['health', '/healthz', 200, undefined, undefined, undefined],
      ['readiness', '/readyz', 200, undefined, undefined, undefined],
      [undefined, '/nowhere', 404, 'not_found', undefined, undefined],
    ])
    for (const event of events) {
      expect(event.durationMs).toBeGreaterThanOrEqual(0)
      expect(Object.getPrototypeOf(event)).toBe(Object.prototype)
    }
    expect(events.at(-1)).not.toHaveProperty('endpoint')
    const published = JSON.stringify(events)
    for (const secretValue of [SECRET, 'wrong-secret-value', accessToken, ...accessToken.split('.')]) {
      expect(published).not.toContain(secretValue)
    }
    expect(published).not.toContain('Basic ')
  })

  it('names a moved endpoint by what it is, from handle(), beside the onRequest hook', async () => {
    const events = recordEvents()
    const entries: RequestLogEntry[] = []
    const server = await createAuthorizationServer({
      issuer: 'https://as.example.com',
      clients: [{ client_id: 'a', client_secret: SECRET }],
      endpoints: { token: 'https://as.example.com/oauth2/v2.0/token' },
      onRequest: (entry) => {
        entries.push(entry)
        // The hook may change its entry: the published event is a copy of its own.
        entry.path = '/changed-by-the-hook'
      },
    })
    const response = await server.handle(
      new Request('https://as.example.com/oauth2/v2.0/token?x=1', {
        method: 'POST',
        headers: { authorization: encodeBasicCredentials('a', SECRET), 'content-type': FORM },
        body: 'grant_type=client_credentials',
      }),
    )
    expect(response.status).toBe(200)
    expect(events).toEqual([
      {
        endpoint: 'token',
        method: 'POST',
        path: '/oauth2/v2.0/token',
        status: 200,
        clientId: 'a',
        authMethod: 'client_secret_basic',
        durationMs: expect.any(Number),
      },
    ])
    // The hook's entry is the one it always was: no endpoint added.
    expect(entries).toHaveLength(1)
    expect(entries[0]).not.toHaveProperty('endpoint')
    expect(JSON.stringify(events)).not.toContain(SECRET)
  })

  it('publishes nothing once the last subscriber left', async () => {
    const events = recordEvents()
    const { url } = await startServer({ clients: [] })
    await send(`${url}/jwks`)
    for (const listener of listeners.splice(0)) unsubscribe(SERVER_REQUEST_CHANNEL, listener)
    await send(`${url}/jwks`)
    expect(events).toHaveLength(1)
  })
})

describe('EndpointNames', () => {
  const issuer = 'https://as.example.com/tenant'

  it('names default, moved, aliased and registration paths, and nothing else', () => {
    const locations = endpointLocations(
      issuer,
      {
        introspection: 'https://as.example.com/oauth/introspect',
        metadata: ['https://as.example.com/tenant/.well-known/openid-configuration'],
      },
      true,
    )
    const names = new EndpointNames(locations, {
      token_endpoint: 'https://mtls.as.example.com/tenant/token-mtls',
    })
    expect(
      [
        '/tenant/token',
        '/tenant/token-mtls?x=1',
        '/oauth/introspect',
        '/tenant/introspect',
        '/tenant/revoke',
        '/tenant/jwks',
        '/.well-known/oauth-authorization-server/tenant',
        '/tenant/.well-known/openid-configuration',
        '/tenant/register',
        '/tenant/register/some-client-id',
        '/tenant/registered',
        '/healthz',
        '/readyz',
        '/',
      ].map((path) => names.of(path)),
    ).toEqual([
      'token',
      'token',
      'introspection',
      undefined,
      'revocation',
      'jwks',
      'metadata',
      'metadata',
      'registration',
      'registration',
      undefined,
      'health',
      'readiness',
      undefined,
    ])
  })
})
