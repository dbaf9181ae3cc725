import { ConfigurationError, DiscoveryError, discover, NetworkError, TimeoutError } from '@oauth-m2m/core'
import { encodeBasicCredentials } from '@oauth-m2m/core/internal'
import { MAX_FAILURE_DELAY_MS } from '@oauth-m2m/testing'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type Reached, TRANSPORTS, tokenRequest } from './transports.js'

describe.each(TRANSPORTS)('failures on demand, through $name', (transport) => {
  let reached: Reached
  beforeEach(async () => {
    reached = await transport.start()
  })
  afterEach(() => reached.close())

  const token = () => tokenRequest(reached, reached.as.createClient())
  const jwks = () => reached.request(`${reached.as.issuer}/jwks`)

  it('failNext answers the next request with an RFC 6749 error and Retry-After, then the server answers again', async () => {
    reached.as.failNext({ endpoint: 'token', status: 503, retryAfterSec: 7 })
    const failed = await token()
    expect(failed.status).toBe(503)
    expect(failed.body).toEqual({
      error: 'temporarily_unavailable',
      error_description: 'failure injected by the test server (failNext)',
    })
    expect(failed.headers['retry-after']).toBe('7')
    expect(failed.headers['cache-control']).toBe('no-store')
    expect(failed.retryAfterMs).toBe(7000)

    const next = await token()
    expect(next.status).toBe(200)
    expect(next.body).toMatchObject({ token_type: 'Bearer' })
  })

  it('fails `times` requests, only of the endpoint named, in the order planned', async () => {
    const { as } = reached
    as.failNext({ endpoint: 'token', status: 500, times: 2 })
    as.failNext({ endpoint: 'token', status: 429, error: 'slow_down', errorDescription: 'easy now' })
    expect((await jwks()).status).toBe(200)
    const statuses = []
    for (let i = 0; i < 4; i++) statuses.push((await token()).status)
    expect(statuses).toEqual([500, 500, 429, 200])
    expect(as.takeRequests({ endpoint: 'token' }).map((r) => r.status)).toEqual([500, 500, 429, 200])
  })

  it.each([
    [400, 'invalid_request'],
    [401, 'invalid_client'],
    [403, 'invalid_request'],
    [429, 'temporarily_unavailable'],
    [500, 'server_error'],
    [502, 'temporarily_unavailable'],
    [504, 'temporarily_unavailable'],
  ])('answers %i with error %s unless told otherwise', async (status, error) => {
    reached.as.failNext({ endpoint: 'token', status })
    const answer = await token()
    expect(answer.status).toBe(status)
    expect(answer.body).toMatchObject({ error })
    expect(answer.headers['retry-after']).toBeUndefined()
  })

  /** A form POST to `url` as the default client (Basic): introspection or revocation of `token`. */
  const tokenPost = (url: string, token: string) => {
    const { clientId, clientSecret } = reached.as.createClient()
    return reached.request(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: encodeBasicCredentials(clientId, clientSecret as string),
      },
      body: new URLSearchParams({ token }).toString(),
    })
  }

  it('fails introspection and revocation on demand, then they answer again', async () => {
    const { as } = reached
    const { introspection_endpoint, revocation_endpoint } = as.server.metadata
    const token = await as.mintToken()
    as.failNext({ endpoint: 'introspect', status: 503, retryAfterSec: 3 })
    as.failNext({ endpoint: 'revoke', status: 500, times: 2 })

    const failed = await tokenPost(introspection_endpoint!, token)
    expect(failed.status).toBe(503)
    expect(failed.body).toMatchObject({ error: 'temporarily_unavailable' })
    expect(failed.headers['retry-after']).toBe('3')
    const introspected = await tokenPost(introspection_endpoint!, token)
    expect(introspected.status).toBe(200)
    expect(introspected.body).toMatchObject({ active: true })

    for (let i = 0; i < 2; i++) {
      const refused = await tokenPost(revocation_endpoint!, token)
      expect(refused.status).toBe(500)
      expect(refused.body).toMatchObject({ error: 'server_error' })
    }
    // Revocation answers 200 with an empty body, which the JSON helper does not take.
    await tokenPost(revocation_endpoint!, token).catch(() => undefined)
    expect(as.takeRequests({ endpoint: 'introspect' }).map((r) => r.status)).toEqual([503, 200])
    expect(as.takeRequests({ endpoint: 'revoke' }).map((r) => r.status)).toEqual([500, 500, 200])
    expect((await tokenPost(introspection_endpoint!, token)).body).toEqual({ active: false })
  })

  it('fails the endpoints of a provider profile at their provider paths', async () => {
    const okta = await transport.start({ profile: 'okta', issuerOrigin: 'server' })
    try {
      const { as } = okta
      expect(new URL(as.tokenEndpoint).pathname).toBe('/oauth2/default/v1/token')
      as.failNext({ endpoint: 'token', status: 429, retryAfterSec: 1 })
      as.failNext({ endpoint: 'jwks', status: 503 })
      const client = as.createClient()
      const limited = await tokenRequest(okta, client, { scope: 'read' })
      expect(limited.status).toBe(429)
      expect(limited.headers['retry-after']).toBe('1')
      expect((await tokenRequest(okta, client, { scope: 'read' })).status).toBe(200)
      const keys = as.server.metadata.jwks_uri
      expect(new URL(keys).pathname).toBe('/oauth2/default/v1/keys')
      expect((await okta.request(keys)).status).toBe(503)
      expect((await okta.request(keys)).status).toBe(200)
      expect(as.requests.map((r) => [r.endpoint, r.path, r.status])).toEqual([
        ['token', '/oauth2/default/v1/token', 429],
        ['token', '/oauth2/default/v1/token', 200],
        ['jwks', '/oauth2/default/v1/keys', 503],
        ['jwks', '/oauth2/default/v1/keys', 200],
      ])
    } finally {
      await okta.close()
    }
  })

  it('challenges a Basic client with WWW-Authenticate on an injected 401 (RFC 6749 §5.2)', async () => {
    reached.as.failNext({ endpoint: 'token', status: 401, error: 'invalid_client' })
    const answer = await token()
    expect(answer.headers['www-authenticate']).toMatch(/^Basic realm=/)
  })

  it('outage answers 503 temporarily_unavailable on every request until restore()', async () => {
    const { as } = reached
    as.outage('jwks')
    for (let i = 0; i < 3; i++) {
      const answer = await jwks()
      expect(answer.status).toBe(503)
      expect(answer.body).toMatchObject({ error: 'temporarily_unavailable' })
    }
    expect((await token()).status).toBe(200) // other endpoints are up
    as.restore()
    expect((await jwks()).status).toBe(200)
  })

  it('outage takes the answer to give, and restore(endpoint) ends only that one', async () => {
    const { as } = reached
    as.outage('jwks', { status: 500, retryAfterSec: 30 })
    as.outage('token')
    const answer = await jwks()
    expect(answer.status).toBe(500)
    expect(answer.body).toMatchObject({ error: 'server_error' })
    expect(answer.headers['retry-after']).toBe('30')
    as.restore('jwks')
    expect((await jwks()).status).toBe(200)
    expect((await token()).status).toBe(503)
  })

  it('restore() also drops failures planned by failNext', async () => {
    reached.as.failNext({ endpoint: 'token', status: 500, times: 5 })
    reached.as.restore()
    expect((await token()).status).toBe(200)
  })

  it('resets the connection: the client sees a network error, the log no status', async () => {
    const { as } = reached
    as.failNext({ endpoint: 'token', reset: true })
    await expect(token()).rejects.toBeInstanceOf(NetworkError)
    expect((await token()).status).toBe(200)

    as.outage('metadata', { reset: true })
    // Discovery says so, and names the network failure (a reset), not an answer it could not read.
    await expect(
      discover(as.issuer, reached.dispatcher ? { dispatcher: reached.dispatcher } : {}),
    ).rejects.toMatchObject({ code: 'ERR_DISCOVERY', cause: expect.any(NetworkError) })
    expect(as.takeRequests({ endpoint: 'token' }).map((r) => r.status)).toEqual([undefined, 200])
  })

  it('an outage of the metadata endpoint fails discovery, both well-known locations', async () => {
    const { as } = reached
    as.outage('metadata', { status: 503 })
    const options = reached.dispatcher ? { dispatcher: reached.dispatcher } : {}
    await expect(discover(as.issuer, options)).rejects.toBeInstanceOf(DiscoveryError)
    as.restore()
    await expect(discover(as.issuer, options)).resolves.toMatchObject({ issuer: as.issuer })
  })

  it('delays an answer: a client with a shorter time limit times out', async () => {
    reached.as.failNext({ endpoint: 'token', status: 503, delayMs: MAX_FAILURE_DELAY_MS })
    await expect(
      tokenRequest(reached, reached.as.createClient(), {}, { timeoutMs: 100 }),
    ).rejects.toBeInstanceOf(TimeoutError)
  })

  it('with only delayMs, gives the real answer late: a later request overtakes it', async () => {
    const { as } = reached
    as.failNext({ endpoint: 'jwks', delayMs: 300 })
    const slow = jwks()
    const quick = await token() // sent after, answered first
    expect(quick.status).toBe(200)
    expect((await slow).status).toBe(200)
    expect(as.requests.map((r) => r.endpoint)).toEqual(['token', 'jwks'])
  })

  it('close() does not wait for a delayed answer', async () => {
    reached.as.failNext({ endpoint: 'token', status: 503, delayMs: MAX_FAILURE_DELAY_MS })
    const pending = token().catch((error: unknown) => error)
    // Usually in flight by now; either way, close() must not wait the 30 s (the test's limit is 20 s).
    await new Promise((resolve) => setTimeout(resolve, 100))
    await reached.close()
    expect(await pending).toBeInstanceOf(NetworkError)
  })
})

describe('failNext and outage options', () => {
  let reached: Reached
  beforeEach(async () => {
    reached = await TRANSPORTS[1]!.start()
  })
  afterEach(() => reached.close())

  it.each([
    ['an unknown endpoint', { endpoint: 'userinfo', status: 500 }],
    ['a status below 400', { endpoint: 'token', status: 200 }],
    ['a status above 599', { endpoint: 'token', status: 600 }],
    ['a fractional status', { endpoint: 'token', status: 500.5 }],
    ['no status, reset or delay', { endpoint: 'token' }],
    ['reset with a status', { endpoint: 'token', reset: true, status: 503 }],
    ['a negative Retry-After', { endpoint: 'token', status: 503, retryAfterSec: -1 }],
    ['a fractional Retry-After', { endpoint: 'token', status: 503, retryAfterSec: 1.5 }],
    ['a delay too long', { endpoint: 'token', status: 503, delayMs: MAX_FAILURE_DELAY_MS + 1 }],
    ['a negative delay', { endpoint: 'token', status: 503, delayMs: -1 }],
    ['zero times', { endpoint: 'token', status: 503, times: 0 }],
    ['an error with a quote', { endpoint: 'token', status: 400, error: 'bad"error' }],
    ['an empty error', { endpoint: 'token', status: 400, error: '' }],
    ['a description with a newline', { endpoint: 'token', status: 400, errorDescription: 'a\nb' }],
    ['an error without a status', { endpoint: 'token', delayMs: 10, error: 'x' }],
  ])('failNext refuses %s', (_what, options) => {
    expect(() => reached.as.failNext(options as never)).toThrow(ConfigurationError)
  })

  it('outage refuses an unknown endpoint and a bad answer; restore an unknown endpoint', () => {
    expect(() => reached.as.outage('userinfo' as never)).toThrow(ConfigurationError)
    expect(() => reached.as.outage('token', { status: 302 })).toThrow(ConfigurationError)
    expect(() => reached.as.restore('userinfo' as never)).toThrow(ConfigurationError)
  })
})
