import { ConfigurationError } from '@oauth-m2m/core'
import { encodeBasicCredentials, requestJson } from '@oauth-m2m/core/internal'
import {
  REQUEST_LOG_MAX_ENTRIES,
  startAuthorizationServers,
  type TestAuthorizationServer,
} from '@oauth-m2m/testing'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type LoggedRequest, RequestLog } from '../src/request-log.js'
import { type Reached, TRANSPORTS, tokenRequest } from './transports.js'

const START = Date.UTC(2031, 5, 1)
const SENTINEL = 'SENTINEL-secret-4f1d0c'
const API = 'https://orders.example.test'

describe.each(TRANSPORTS)('the request log, through $name', (transport) => {
  let reached: Reached
  beforeEach(async () => {
    reached = await transport.start({
      clients: [
        {
          client_id: 'post-client',
          token_endpoint_auth_method: 'client_secret_post',
          client_secret: SENTINEL,
        },
        { client_id: 'basic-client', client_secret: SENTINEL },
        {
          client_id: 'hmac-client',
          token_endpoint_auth_method: 'client_secret_jwt',
          client_secret: SENTINEL,
        },
        { client_id: 'key-client', token_endpoint_auth_method: 'private_key_jwt' },
      ],
      resources: [{ resource: API, tokenFormat: 'opaque' }],
    })
  })
  afterEach(() => reached.close())

  it('records each request: endpoint, method, path, parameters, auth method, client, time, status', async () => {
    const frozen = await transport.start({
      now: () => START,
      clients: [
        { client_id: 'post-client', token_endpoint_auth_method: 'client_secret_post', scope: 'read' },
      ],
      resources: [{ resource: API }],
    })
    const { as } = frozen
    try {
      await frozen.request(`${as.issuer}/jwks`)
      as.clock.advance(500)
      await tokenRequest(frozen, as.createClient('post-client'), { scope: 'read', resource: API })
    } finally {
      await frozen.close()
    }
    expect(as.requests).toEqual([
      {
        endpoint: 'jwks',
        method: 'GET',
        path: '/jwks',
        params: {},
        authMethod: undefined,
        clientId: undefined,
        timeMs: START,
        status: 200,
      },
      {
        endpoint: 'token',
        method: 'POST',
        path: '/token',
        params: {
          grant_type: 'client_credentials',
          scope: 'read',
          resource: API,
          client_id: 'post-client',
          client_secret: '[redacted]',
        },
        authMethod: 'client_secret_post',
        clientId: 'post-client',
        timeMs: START + 500,
        status: 200,
      },
    ])
  })

  it('names every client authentication method and the client', async () => {
    const { as } = reached
    for (const id of ['basic-client', 'post-client', 'hmac-client', 'key-client']) {
      await tokenRequest(reached, as.createClient(id))
    }
    const logged = as.takeRequests({ endpoint: 'token' })
    expect(logged.map((r) => [r.clientId, r.authMethod, r.status])).toEqual([
      ['basic-client', 'client_secret_basic', 200],
      ['post-client', 'client_secret_post', 200],
      ['hmac-client', 'client_secret_jwt', 200],
      ['key-client', 'private_key_jwt', 200],
    ])
    const assertion = logged[2]!.params
    expect(assertion.client_assertion).toBe('[redacted]')
    expect(assertion.client_assertion_type).toBe('urn:ietf:params:oauth:client-assertion-type:jwt-bearer')
  })

  it('records refusals with their status, and paths that are no endpoint as other', async () => {
    const { as } = reached
    await tokenRequest(reached, as.createClient('basic-client'), { scope: 'admin' })
    await reached.request(`${as.issuer}/nowhere`)
    expect(as.requests.map((r) => [r.endpoint, r.path, r.status])).toEqual([
      ['token', '/token', 400],
      ['other', '/nowhere', 404],
    ])
  })

  it('never holds a secret, an assertion or a token', async () => {
    const { as } = reached
    const responses = []
    for (const id of ['basic-client', 'post-client', 'hmac-client', 'key-client']) {
      // Opaque tokens for the API, a JWT for the default audience.
      const params: Record<string, string> = id === 'key-client' ? {} : { resource: API }
      responses.push(await tokenRequest(reached, as.createClient(id), params))
    }
    const tokens = responses.map((r) => (r.body as { access_token: string }).access_token)
    expect(tokens[3]!.split('.')).toHaveLength(3)
    const caller = as.createClient('post-client')
    // Introspection and revocation carry the token itself.
    await reached.request(`${as.issuer}/introspect`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        token: tokens[0]!,
        client_id: caller.clientId,
        client_secret: SENTINEL,
      }).toString(),
    })
    // 200 with an empty body, which requestJson does not take for JSON.
    const revoked = reached.request(`${as.issuer}/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        token: tokens[1]!,
        token_type_hint: 'access_token',
        client_id: caller.clientId,
        client_secret: SENTINEL,
        // Secrets under names no rule knows: by value (an opaque token, a JWT) and by name.
        custom: tokens[2]!,
        other: tokens[3]!,
        api_key: 'also-secret',
        // Not a secret: stays readable.
        organization: 'org_123',
      }).toString(),
    })
    await revoked.catch(() => undefined)
    const text = JSON.stringify(as.requests)
    expect(text).not.toContain(SENTINEL)
    for (const token of tokens) expect(text).not.toContain(token)
    expect(text).not.toContain('also-secret')
    const revoke = as.requests.find((r) => r.endpoint === 'revoke')!
    expect(revoke.params).toMatchObject({
      token: '[redacted]',
      token_type_hint: 'access_token',
      custom: '[redacted]',
      other: '[redacted]',
      api_key: '[redacted]',
      organization: 'org_123',
    })
    expect(as.requests.map((r) => r.endpoint)).toEqual([
      'token',
      'token',
      'token',
      'token',
      'introspect',
      'revoke',
    ])
  })

  it('reads a JSON body too (Auth0 takes JSON token requests), with the same redaction', async () => {
    const auth0 = await transport.start({
      profile: 'auth0',
      issuerOrigin: 'server',
      clients: [
        {
          client_id: 'json-client',
          token_endpoint_auth_method: 'client_secret_post',
          client_secret: SENTINEL,
        },
      ],
    })
    const { as } = auth0
    try {
      const answer = await auth0.request(as.tokenEndpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          grant_type: 'client_credentials',
          client_id: 'json-client',
          client_secret: SENTINEL,
          audience: as.audience,
          retries: 2,
        }),
      })
      expect(answer.status).toBe(200)
      const text = JSON.stringify(as.requests)
      expect(text).not.toContain(SENTINEL)
      expect(as.takeRequests({ clientId: 'json-client' })).toEqual([
        expect.objectContaining({
          endpoint: 'token',
          params: {
            grant_type: 'client_credentials',
            client_id: 'json-client',
            client_secret: '[redacted]',
            audience: as.audience,
            retries: '2',
          },
          authMethod: 'client_secret_post',
          clientId: 'json-client',
          status: 200,
        }),
      ])
    } finally {
      await auth0.close()
    }
  })

  it('leaves mintToken out: it is the test, not a client under test', async () => {
    await reached.as.mintToken()
    expect(reached.as.requests).toEqual([])
  })

  it('takeRequests removes and returns what the filter matches', async () => {
    const { as } = reached
    await tokenRequest(reached, as.createClient('basic-client'))
    await tokenRequest(reached, as.createClient('post-client'))
    await reached.request(`${as.issuer}/jwks`)

    expect(as.takeRequests({ endpoint: 'token', clientId: 'post-client' })).toHaveLength(1)
    expect(as.takeRequests({ method: 'get' }).map((r) => r.endpoint)).toEqual(['jwks'])
    expect(as.takeRequests((r) => r.clientId === 'nobody')).toEqual([])
    expect(as.requests.map((r) => r.clientId)).toEqual(['basic-client'])
    expect(as.takeRequests()).toHaveLength(1)
    expect(as.requests).toEqual([])
    expect(() => as.takeRequests('token' as never)).toThrow(ConfigurationError)
  })

  it('hands out snapshots that a test cannot change', async () => {
    const { as } = reached
    await reached.request(`${as.issuer}/jwks`)
    const snapshot = as.requests
    expect(Object.isFrozen(snapshot)).toBe(true)
    expect(Object.isFrozen(snapshot[0])).toBe(true)
    await reached.request(`${as.issuer}/jwks`)
    expect(snapshot).toHaveLength(1)
    expect(as.requests).toHaveLength(2)
  })
})

/** The server's default `maxBodyBytes`. */
const MAX_BODY_BYTES = 65_536

/**
 * A token request of the default client whose form body is exactly `size` bytes, to the token
 * endpoint: Basic credentials, so the log still names the client when it cannot read the body.
 */
function sizedTokenRequest(
  reached: Pick<Reached, 'request'>,
  as: TestAuthorizationServer,
  size: number,
  params: Record<string, string> = {},
) {
  const client = as.createClient()
  const start = `${new URLSearchParams({ grant_type: 'client_credentials', ...params })}&pad=`
  return reached.request(as.tokenEndpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: encodeBasicCredentials(client.clientId, client.clientSecret as string),
    },
    body: start + 'x'.repeat(size - start.length),
    timeoutMs: 5000,
  })
}

describe.each(TRANSPORTS)('a body over maxBodyBytes, through $name', (transport) => {
  it.each([
    ['the reference profile', {}, {}],
    // Entra's rules read the body before the server does; the scope they want keeps it a token request.
    ['the entra profile', { profile: 'entra', issuerOrigin: 'server' }, { scope: '/.default' }],
  ] as const)('is answered 413 and logged, under %s', async (_name, options, extra) => {
    const reached = await transport.start(options)
    try {
      const { as } = reached
      const answer = await sizedTokenRequest(reached, as, MAX_BODY_BYTES + 1)
      expect(answer.status).toBe(413)
      expect(as.takeRequests()).toEqual([
        expect.objectContaining({
          endpoint: 'token',
          params: {},
          authMethod: 'client_secret_basic',
          clientId: as.createClient().clientId,
          status: 413,
        }),
      ])
      // A body of exactly maxBodyBytes is read, logged and answered.
      const params: Record<string, string> =
        'scope' in extra ? { scope: `api://${as.audience}${extra.scope}` } : {}
      const fits = await sizedTokenRequest(reached, as, MAX_BODY_BYTES, params)
      expect(fits.status).toBe(200)
      expect(as.takeRequests()).toEqual([
        expect.objectContaining({
          params: expect.objectContaining({ grant_type: 'client_credentials' }),
          status: 200,
        }),
      ])
    } finally {
      await reached.close()
    }
  })
})

describe.each(TRANSPORTS)('a larger maxBodyBytes, through $name', (transport) => {
  it("is the limit of the profile's rules and of the log too", async () => {
    const maxBodyBytes = 2 * MAX_BODY_BYTES
    const reached = await transport.start({ profile: 'entra', issuerOrigin: 'server', maxBodyBytes })
    try {
      const { as } = reached
      // Over the default limit, within the configured one: Entra's rules must still read it.
      const scope = `api://${as.audience}/.default`
      const answer = await sizedTokenRequest(reached, as, MAX_BODY_BYTES + 1000, { scope })
      expect(answer.status).toBe(200)
      expect(as.takeRequests()).toEqual([
        expect.objectContaining({ params: expect.objectContaining({ scope }), status: 200 }),
      ])
      expect((await sizedTokenRequest(reached, as, maxBodyBytes + 1, { scope })).status).toBe(413)
    } finally {
      await reached.close()
    }
  })
})

describe('a body over maxBodyBytes, several issuers on one port', () => {
  it('is answered 413 and logged by the issuer it was sent to', async () => {
    const group = await startAuthorizationServers(['a', 'b'])
    try {
      const a = group.byName.a!
      const answer = await sizedTokenRequest({ request: requestJson }, a, MAX_BODY_BYTES + 1)
      expect(answer.status).toBe(413)
      expect(a.takeRequests().map((r) => [r.endpoint, r.status])).toEqual([['token', 413]])
    } finally {
      await group.close()
    }
  })
})

describe('RequestLog', () => {
  it(`keeps the newest ${REQUEST_LOG_MAX_ENTRIES} entries`, () => {
    const log = new RequestLog()
    const entry = (n: number): LoggedRequest => ({
      endpoint: 'jwks',
      method: 'GET',
      path: '/jwks',
      params: {},
      authMethod: undefined,
      clientId: undefined,
      timeMs: n,
      status: 200,
    })
    for (let n = 0; n < REQUEST_LOG_MAX_ENTRIES + 5; n++) log.add(entry(n))
    expect(log.entries).toHaveLength(REQUEST_LOG_MAX_ENTRIES)
    expect(log.entries[0]!.timeMs).toBe(5)
    expect(log.entries.at(-1)!.timeMs).toBe(REQUEST_LOG_MAX_ENTRIES + 4)
  })
})
