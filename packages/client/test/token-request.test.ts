import diagnostics_channel from 'node:diagnostics_channel'
import {
  clientSecretBasic,
  clientSecretJwt,
  DiscoveryError,
  HttpError,
  NetworkError,
  OAuthResponseError,
  TimeoutError,
} from '@oauth-m2m/core'
import { decodeBasicCredentials } from '@oauth-m2m/core/internal'
import { createTestAuthorizationServer, type TestAuthorizationServer } from '@oauth-m2m/testing'
import { authorizationServerHandlers, createMswDispatcher } from '@oauth-m2m/testing/msw'
import { decodeJwt, SignJWT } from 'jose'
import { delay, HttpResponse, http } from 'msw'
import { afterEach, describe, expect, it } from 'vitest'
import {
  CLIENT_CHANNELS,
  createTokenClient,
  type FetchRetryMessage,
  RetryLaterError,
  type TokenClient,
  type TokenClientOptions,
} from '../src/index.js'
import {
  type Answer,
  oauthErrorAnswer,
  type ScriptedTokenServer,
  scriptedTokenServer,
  TOKEN_ENDPOINT,
  tokenAnswer,
} from './msw-token-server.js'

const clients: TokenClient[] = []
const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()))
})

function listen<T>(channel: string): { messages: T[]; stop: () => void } {
  const messages: T[] = []
  const fn = (m: unknown) => messages.push(m as T)
  diagnostics_channel.subscribe(channel, fn)
  return { messages, stop: () => diagnostics_channel.unsubscribe(channel, fn) }
}

function setup(answer: Answer, options: Partial<TokenClientOptions> = {}) {
  const server: ScriptedTokenServer = scriptedTokenServer(answer)
  const client = createTokenClient({
    tokenEndpoint: TOKEN_ENDPOINT,
    clientId: 'service-a',
    auth: clientSecretBasic('s3cret'),
    dispatcher: server.dispatcher,
    retry: { minDelayMs: 1, maxDelayMs: 5 },
    ...options,
  })
  clients.push(client)
  return { server, client }
}

/**
 * A client of the reference server in process (msw), for failures that are the server's to give:
 * the test plans them with `as.failNext()` and counts requests with `as.takeRequests()`.
 */
async function setupWithReferenceServer(options: Partial<TokenClientOptions> = {}) {
  const as: TestAuthorizationServer = await createTestAuthorizationServer()
  const dispatcher = createMswDispatcher(authorizationServerHandlers(as))
  cleanups.push(async () => {
    await as.close()
    await dispatcher.close()
  })
  const client = createTokenClient({
    ...as.createClient(),
    dispatcher,
    retry: { minDelayMs: 1, maxDelayMs: 5 },
    ...options,
  })
  clients.push(client)
  return { as, client }
}

describe('the token request', () => {
  it('is a client_credentials form POST with the scopes, every resource and the extra parameters', async () => {
    const { server, client } = setup(() => tokenAnswer(), {
      scope: ['write', 'read'],
      resource: ['https://b.example.test', 'https://a.example.test'],
      audience: ['urn:b', 'https://api.example.test/a'],
      extraParams: { organization: 'org_123' },
    })
    await client.getToken()
    const [req] = server.requests
    expect(req!.form.get('grant_type')).toBe('client_credentials')
    expect(req!.form.get('scope')).toBe('read write')
    expect(req!.form.getAll('resource')).toEqual(['https://a.example.test', 'https://b.example.test'])
    expect(req!.form.getAll('audience')).toEqual(['https://api.example.test/a', 'urn:b'])
    expect(req!.form.get('organization')).toBe('org_123')
    expect(req!.headers.get('content-type')).toBe('application/x-www-form-urlencoded')
    const basic = decodeBasicCredentials(req!.headers.get('authorization')!)
    expect(basic).toEqual({ ok: true, clientId: 'service-a', clientSecret: 's3cret' })
  })

  it('yields a TokenSet whose expiry counts from before the request was sent', async () => {
    let clock = 1_000_000
    const { client } = setup(
      () => {
        clock += 5000 // time passes while the server works
        return tokenAnswer({ expires_in: 60, scope: 'read' })
      },
      { now: () => clock },
    )
    const token = await client.getToken()
    expect(token.tokenType).toBe('Bearer')
    expect(token.issuedAt).toBe(1_000_000)
    expect(token.expiresAt).toBe(1_060_000)
    expect(token.scope).toBe('read')
  })

  it('accepts token_type in any case and reports the requested scope when the server names none', async () => {
    const { client } = setup(() => tokenAnswer({ token_type: 'bEaReR' }), { scope: 'read' })
    const token = await client.getToken()
    expect(token.tokenType).toBe('Bearer')
    expect(token.scope).toBe('read')
  })
})

describe('retries', () => {
  it('retries a 500 and returns the token of the 200 that follows', async () => {
    const { as, client } = await setupWithReferenceServer()
    as.failNext({ endpoint: 'token', status: 500 })
    const token = await client.getToken()
    expect(token.accessToken.split('.')).toHaveLength(3) // the server's JWT
    expect(as.takeRequests({ endpoint: 'token' }).map((r) => r.status)).toEqual([500, 200])
  })

  it('retries a connection reset', async () => {
    const { as, client } = await setupWithReferenceServer()
    as.failNext({ endpoint: 'token', reset: true })
    await expect(client.getToken()).resolves.toMatchObject({ tokenType: 'Bearer' })
    expect(as.takeRequests({ endpoint: 'token' }).map((r) => r.status)).toEqual([undefined, 200])
  })

  it('gives up after the configured retries with the last error', async () => {
    const { server, client } = setup(() => HttpResponse.error(), { retry: { retries: 2, minDelayMs: 1 } })
    await expect(client.getToken()).rejects.toBeInstanceOf(NetworkError)
    expect(server.requests).toHaveLength(3)
  })

  it('waits for Retry-After on a 429 before retrying', async () => {
    const retries = listen<FetchRetryMessage>(CLIENT_CHANNELS.fetchRetry)
    const { server, client } = setup((n) =>
      n === 1 ? new HttpResponse(null, { status: 429, headers: { 'retry-after': '1' } }) : tokenAnswer(),
    )
    await client.getToken().finally(retries.stop)
    expect(server.requests).toHaveLength(2)
    // The server's 1 s, not the 1–5 ms backoff this client is configured with.
    expect(retries.messages.map((m) => m.delayMs)).toEqual([1000])
  })

  it('reads a Retry-After given as an HTTP date', async () => {
    const retries = listen<FetchRetryMessage>(CLIENT_CHANNELS.fetchRetry)
    const past = new Date(Date.now() - 60_000).toUTCString()
    const { server, client } = setup(
      (n) =>
        n === 1 ? new HttpResponse(null, { status: 503, headers: { 'retry-after': past } }) : tokenAnswer(),
      // A backoff of its own would be at least 5 s: a 0 ms wait can only come from the date.
      { retry: { minDelayMs: 5000, maxDelayMs: 5000 } },
    )
    await client.getToken().finally(retries.stop)
    expect(server.requests).toHaveLength(2)
    expect(retries.messages.map((m) => m.delayMs)).toEqual([0])
  })

  it("reads a Retry-After HTTP date and signs assertions against the client's clock (now), not the machine's", async () => {
    const clock = Date.parse('2031-05-01T12:00:00Z')
    const { server, client } = setup(
      (n) =>
        n === 1
          ? new HttpResponse(null, {
              status: 503,
              // 1 s ahead of the client's clock, years ahead of the machine's.
              headers: { 'retry-after': new Date(clock + 1000).toUTCString() },
            })
          : tokenAnswer(),
      { now: () => clock, auth: clientSecretJwt('a-client-secret-of-32-bytes-or-more!') },
    )
    const retries = listen<FetchRetryMessage>(CLIENT_CHANNELS.fetchRetry)
    await client.getToken().finally(retries.stop)
    expect(retries.messages.map((m) => m.delayMs)).toEqual([1000])
    const assertion = decodeJwt(server.requests[0]?.form.get('client_assertion') ?? '')
    expect(assertion.iat).toBe(clock / 1000)
  })

  it('holds back a key for a Retry-After HTTP date beyond the cap', async () => {
    const later = new Date(Date.now() + 3_600_000).toUTCString()
    const { server, client } = setup(
      () => new HttpResponse(null, { status: 429, headers: { 'retry-after': later } }),
    )
    const error = await client.getToken().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(HttpError)
    expect((error as HttpError).retryAfterMs).toBeGreaterThan(3_500_000)
    await expect(client.getToken()).rejects.toBeInstanceOf(RetryLaterError)
    expect(server.requests).toHaveLength(1)
  })

  it('does not wait for a Retry-After beyond the deadline: it fails at once and later calls fail fast', async () => {
    const { as, client } = await setupWithReferenceServer()
    as.failNext({ endpoint: 'token', status: 503, retryAfterSec: 3600 })
    const error = await client.getToken().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(OAuthResponseError)
    expect(error).toMatchObject({ status: 503, error: 'temporarily_unavailable', retryAfterMs: 3_600_000 })
    expect(as.takeRequests({ endpoint: 'token' })).toHaveLength(1)

    const again = await client.getToken().catch((e: unknown) => e)
    expect(again).toBeInstanceOf(RetryLaterError)
    // Held back for maxRetryAfterSec (default 300 s), not the hour the server asked for.
    expect((again as RetryLaterError).retryAfterMs).toBeGreaterThan(290_000)
    expect((again as RetryLaterError).retryAfterMs).toBeLessThanOrEqual(300_000)
    expect((again as RetryLaterError).cause).toBe(error)
    expect(as.takeRequests({ endpoint: 'token' })).toHaveLength(0)
  })

  it('calls the server again once the Retry-After pause has passed', async () => {
    let clock = 1_000_000
    const { server, client } = setup(
      (n) =>
        n === 1 ? new HttpResponse(null, { status: 429, headers: { 'retry-after': '60' } }) : tokenAnswer(),
      { now: () => clock },
    )
    await expect(client.getToken()).rejects.toBeInstanceOf(HttpError)
    await expect(client.getToken()).rejects.toBeInstanceOf(RetryLaterError)
    clock += 60_000
    await expect(client.getToken()).resolves.toMatchObject({ tokenType: 'Bearer' })
    expect(server.requests).toHaveLength(2)
  })

  it('honours a Retry-After of 100 000 s for maxRetryAfterSec only (default 300 s), then asks again', async () => {
    let clock = 1_000_000
    const { server, client } = setup(
      (n) =>
        n === 1
          ? oauthErrorAnswer(503, 'temporarily_unavailable', { 'retry-after': '100000' })
          : tokenAnswer(),
      { now: () => clock },
    )
    const error = await client.getToken().catch((e: unknown) => e)
    // The error reports what the server said; the client honours only the cap of it.
    expect(error).toMatchObject({ status: 503, retryAfterMs: 100_000_000 })
    const held = await client.getToken().catch((e: unknown) => e)
    expect(held).toBeInstanceOf(RetryLaterError)
    expect((held as RetryLaterError).retryAfterMs).toBe(300_000)
    clock += 299_999
    await expect(client.getToken()).rejects.toBeInstanceOf(RetryLaterError)
    clock += 1
    await expect(client.getToken()).resolves.toMatchObject({ tokenType: 'Bearer' })
    expect(server.requests).toHaveLength(2)
  })

  it('ignores Retry-After with maxRetryAfterSec 0: its own jittered backoff applies, and nothing is held back', async () => {
    const retries = listen<FetchRetryMessage>(CLIENT_CHANNELS.fetchRetry)
    const { server, client } = setup(
      (n) => (n <= 2 ? oauthErrorAnswer(429, 'slow_down', { 'retry-after': '3600' }) : tokenAnswer()),
      // Backoff ceilings of 20 and 40 ms: a draw of 0 ms each time is (almost) impossible.
      { maxRetryAfterSec: 0, retry: { minDelayMs: 20, maxDelayMs: 40 } },
    )
    await client.getToken().finally(retries.stop)
    expect(server.requests).toHaveLength(3)
    const delays = retries.messages.map((m) => m.delayMs)
    expect(delays).toHaveLength(2)
    expect(delays[0]).toBeLessThanOrEqual(20)
    expect(delays[1]).toBeLessThanOrEqual(40)
    expect(delays.some((ms) => ms > 0)).toBe(true)
  })

  it('takes maxRetryAfterSec as the longest wait between attempts, too', async () => {
    const retries = listen<FetchRetryMessage>(CLIENT_CHANNELS.fetchRetry)
    const { server, client } = setup(
      (n) => (n === 1 ? oauthErrorAnswer(429, 'slow_down', { 'retry-after': '100000' }) : tokenAnswer()),
      { maxRetryAfterSec: 0.02 },
    )
    await expect(client.getToken().finally(retries.stop)).resolves.toMatchObject({ tokenType: 'Bearer' })
    expect(retries.messages.map((m) => m.delayMs)).toEqual([20])
    expect(server.requests).toHaveLength(2)
  })

  it('ends a Retry-After hold-back on invalidate()', async () => {
    const { server, client } = setup((n) =>
      n === 1 ? oauthErrorAnswer(503, 'temporarily_unavailable', { 'retry-after': '100000' }) : tokenAnswer(),
    )
    await expect(client.getToken()).rejects.toBeInstanceOf(OAuthResponseError)
    await expect(client.getToken()).rejects.toBeInstanceOf(RetryLaterError)
    client.invalidate()
    await expect(client.getToken()).resolves.toMatchObject({ tokenType: 'Bearer' })
    expect(server.requests).toHaveLength(2)
  })

  it.each([
    [400, 'invalid_client'],
    [401, 'invalid_client'],
    [400, 'invalid_scope'],
    [400, 'unauthorized_client'],
  ])('never retries a %i %s', async (status, code) => {
    const { server, client } = setup(() => oauthErrorAnswer(status, code))
    const error = await client.getToken().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(OAuthResponseError)
    expect(error).toMatchObject({
      code: 'ERR_OAUTH_RESPONSE',
      error: code,
      status,
      errorDescription: `${code} (test)`,
    })
    expect(server.requests).toHaveLength(1)
  })

  it('does not cache a failure: the next call asks again', async () => {
    const { server, client } = setup((n) =>
      n === 1 ? oauthErrorAnswer(400, 'invalid_client') : tokenAnswer(),
    )
    await expect(client.getToken()).rejects.toBeInstanceOf(OAuthResponseError)
    await expect(client.getToken()).resolves.toMatchObject({ tokenType: 'Bearer' })
    expect(server.requests).toHaveLength(2)
  })

  it('times out a silent server per attempt and retries it', async () => {
    const { server, client } = setup(
      async (n) => {
        if (n === 1) await delay('infinite')
        return tokenAnswer()
      },
      { timeoutMs: 500 },
    )
    await expect(client.getToken()).resolves.toMatchObject({ tokenType: 'Bearer' })
    expect(server.requests).toHaveLength(2)
  })

  it('reports a TimeoutError when every attempt times out', async () => {
    const { server, client } = setup(
      async () => {
        await delay('infinite')
        return tokenAnswer()
      },
      { timeoutMs: 50, retry: { retries: 1, minDelayMs: 1 } },
    )
    const error = await client.getToken().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TimeoutError)
    expect(error).toMatchObject({ code: 'ERR_TIMEOUT', timeoutMs: 50 })
    expect(server.requests).toHaveLength(2)
  })

  it('stops at the total deadline however many retries are left', async () => {
    const { server, client } = setup(() => new HttpResponse(null, { status: 502 }), {
      retry: { retries: 100, minDelayMs: 40, maxDelayMs: 40, deadlineMs: 150 },
    })
    await expect(client.getToken()).rejects.toMatchObject({ status: 502 })
    expect(server.requests.length).toBeGreaterThanOrEqual(1)
    expect(server.requests.length).toBeLessThan(100)
  })

  it('cuts a hanging attempt short at the total deadline, before its own time limit', async () => {
    const { server, client } = setup(
      async () => {
        await delay('infinite')
        return tokenAnswer()
      },
      { timeoutMs: 60_000, retry: { retries: 5, minDelayMs: 1, deadlineMs: 100 } },
    )
    const error = await client.getToken().catch((e: unknown) => e)
    // Without the deadline the first attempt alone would hang for 60 s.
    expect(error).toBeInstanceOf(TimeoutError)
    expect((error as TimeoutError).timeoutMs).toBeLessThanOrEqual(100)
    expect(server.requests.length).toBeGreaterThanOrEqual(1)
  })

  it('makes a single attempt with retry: false', async () => {
    const { server, client } = setup(() => new HttpResponse(null, { status: 500 }), { retry: false })
    await expect(client.getToken()).rejects.toMatchObject({ status: 500 })
    expect(server.requests).toHaveLength(1)
  })

  it('lets a caller stop waiting with an AbortSignal', async () => {
    const { client } = setup(async () => {
      await delay(200)
      return tokenAnswer()
    })
    const controller = new AbortController()
    const waiting = client.getToken({ signal: controller.signal })
    const other = client.getToken()
    controller.abort(new Error('caller gave up'))
    await expect(waiting).rejects.toThrow('caller gave up')
    // The shared request goes on for the others.
    await expect(other).resolves.toMatchObject({ tokenType: 'Bearer' })
  })
})

describe('answers that are refused', () => {
  const refusals: [string, Answer, RegExp][] = [
    [
      'an HTML body',
      () => new HttpResponse('<html>maintenance</html>', { headers: { 'content-type': 'text/html' } }),
      /content type text\/html/,
    ],
    [
      'truncated JSON',
      () =>
        new HttpResponse('{"access_token":"abc","token_ty', {
          headers: { 'content-type': 'application/json' },
        }),
      /malformed JSON/,
    ],
    ['a JSON array', () => HttpResponse.json([1, 2]), /not an object/],
    ['no access_token', () => HttpResponse.json({ token_type: 'Bearer', expires_in: 60 }), /no access_token/],
    ['an empty access_token', () => tokenAnswer({ access_token: '' }), /no access_token/],
    ['token_type mac', () => tokenAnswer({ token_type: 'mac' }), /token_type other than Bearer/],
    ['token_type DPoP', () => tokenAnswer({ token_type: 'DPoP' }), /token_type other than Bearer/],
    ['no token_type', () => tokenAnswer({ token_type: null }), /token_type other than Bearer/],
    ['expires_in 0', () => tokenAnswer({ expires_in: 0 }), /expires_in that is not a positive number/],
    [
      'a negative expires_in',
      () => tokenAnswer({ expires_in: -5 }),
      /expires_in that is not a positive number/,
    ],
    ...['', ' 3600', '3600 ', '+3600', '-5', '36.5', '1e3', '0x10', '３６００', 'soon'].map(
      (expiresIn): [string, Answer, RegExp] => [
        `expires_in ${JSON.stringify(expiresIn)}`,
        () => tokenAnswer({ expires_in: expiresIn }),
        /expires_in that is not a positive number/,
      ],
    ),
    ['expires_in "0"', () => tokenAnswer({ expires_in: '0' }), /expires_in that is not a positive number/],
    [
      'a huge expires_in string',
      () => tokenAnswer({ expires_in: '9'.repeat(30) }),
      /expires_in that is out of range/,
    ],
    ['a huge expires_in', () => tokenAnswer({ expires_in: 1e300 }), /expires_in that is out of range/],
    ['a non-string scope', () => tokenAnswer({ scope: ['read'] }), /scope that is not a string/],
    [
      'a body over maxResponseBytes',
      () => tokenAnswer({ padding: 'x'.repeat(300 * 1024) }),
      /larger than 262144 bytes/,
    ],
    ['a 204', () => new HttpResponse(null, { status: 204 }), /answered 204/],
  ]

  it.each(refusals)('refuses %s with an HttpError and does not retry it', async (_, answer, message) => {
    const { server, client } = setup(answer)
    const error = await client.getToken().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(HttpError)
    expect((error as Error).message).toMatch(message)
    expect(server.requests).toHaveLength(1)
  })

  it('retries a 500 with an HTML body', async () => {
    const { server, client } = setup((n) =>
      n === 1
        ? new HttpResponse('<html>down</html>', { status: 500, headers: { 'content-type': 'text/html' } })
        : tokenAnswer(),
    )
    await expect(client.getToken()).resolves.toMatchObject({ tokenType: 'Bearer' })
    expect(server.requests).toHaveLength(2)
  })

  it('turns an OAuth error object into an OAuthResponseError with its fields', async () => {
    const { client } = setup(() =>
      HttpResponse.json(
        {
          error: 'invalid_scope',
          error_description: 'no such scope',
          error_uri: 'https://as.example.test/e',
        },
        { status: 400 },
      ),
    )
    await expect(client.getToken()).rejects.toMatchObject({
      name: 'OAuthResponseError',
      error: 'invalid_scope',
      errorDescription: 'no such scope',
      errorUri: 'https://as.example.test/e',
      status: 400,
    })
  })

  it('turns a 4xx without an OAuth error object into an HttpError', async () => {
    const { client } = setup(() => HttpResponse.json({ message: 'nope' }, { status: 403 }))
    await expect(client.getToken()).rejects.toMatchObject({ name: 'HttpError', status: 403 })
  })
})

describe('expires_in as a string of digits (Entra ID v1, older servers)', () => {
  it('reads "3599" as 3599 s', async () => {
    const { client } = setup(() => tokenAnswer({ expires_in: '3599', ext_expires_in: '3599' }), {
      now: () => 1_000_000,
    })
    const token = await client.getToken()
    expect(token.expiresAt).toBe(1_000_000 + 3_599_000)
    expect(token.response.expires_in).toBe('3599')
  })

  it('bounds an absurd one by maxLifetimeSec, as it does a number', async () => {
    const { client } = setup(() => tokenAnswer({ expires_in: '1000000000000' }), {
      now: () => 1_000_000,
      maxLifetimeSec: 600,
    })
    expect((await client.getToken()).expiresAt).toBe(1_000_000 + 600_000)
  })
})

describe('the token lifetime when expires_in is absent', () => {
  it('is the JWT exp when the access token is a JWT', async () => {
    const clock = 1_700_000_000_000
    const exp = Math.floor(clock / 1000) + 900
    const jwt = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime(exp)
      .sign(new Uint8Array(32))
    const { client } = setup(() => HttpResponse.json({ access_token: jwt, token_type: 'Bearer' }), {
      now: () => clock,
    })
    await expect(client.getToken()).resolves.toMatchObject({ expiresAt: exp * 1000 })
  })

  it('refuses a JWT that has already expired by the client clock', async () => {
    // Valid by the wall clock, expired by the `now` the client is given: the client reads its own.
    const clock = Date.now() + 3_600_000
    const exp = Math.floor(clock / 1000) - 10
    const jwt = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime(exp)
      .sign(new Uint8Array(32))
    const { client } = setup(() => HttpResponse.json({ access_token: jwt, token_type: 'Bearer' }), {
      now: () => clock,
    })
    await expect(client.getToken()).rejects.toThrow(/already expired/)
  })

  it('is defaultExpiresInSec for a JWT without exp', async () => {
    const clock = 5_000_000
    const jwt = await new SignJWT({ sub: 'x' }).setProtectedHeader({ alg: 'HS256' }).sign(new Uint8Array(32))
    const { client } = setup(() => HttpResponse.json({ access_token: jwt, token_type: 'Bearer' }), {
      now: () => clock,
    })
    await expect(client.getToken()).resolves.toMatchObject({ expiresAt: clock + 300_000 })
  })

  it('is defaultExpiresInSec (300 s unless set) for an opaque token', async () => {
    const clock = 5_000_000
    const { client } = setup(() => tokenAnswer({ expires_in: undefined }), { now: () => clock })
    await expect(client.getToken()).resolves.toMatchObject({ expiresAt: clock + 300_000 })
    const other = setup(() => tokenAnswer({ expires_in: undefined }), {
      now: () => clock,
      defaultExpiresInSec: 42,
    })
    await expect(other.client.getToken()).resolves.toMatchObject({ expiresAt: clock + 42_000 })
  })
})

describe('discovery of the token endpoint', () => {
  const ISSUER = 'https://as.example.test'
  const METADATA = `${ISSUER}/.well-known/oauth-authorization-server`

  function discoveringSetup(metadataAnswer: (n: number) => Response) {
    const metadataRequests: number[] = []
    const tokenRequests: number[] = []
    const dispatcher = createMswDispatcher([
      http.get(METADATA, () => {
        metadataRequests.push(metadataRequests.length + 1)
        return metadataAnswer(metadataRequests.length)
      }),
      http.post(TOKEN_ENDPOINT, () => {
        tokenRequests.push(tokenRequests.length + 1)
        return tokenAnswer()
      }),
    ])
    const client = createTokenClient({
      issuer: ISSUER,
      clientId: 'service-a',
      auth: clientSecretBasic('s3cret'),
      dispatcher,
      retry: { minDelayMs: 1, maxDelayMs: 5 },
    })
    clients.push(client)
    return { client, metadataRequests, tokenRequests }
  }

  const metadata = () => HttpResponse.json({ issuer: ISSUER, token_endpoint: TOKEN_ENDPOINT })

  it("reuses discovered metadata across clients for an hour by the clients' clock (now), not the machine's", async () => {
    let clockMs = Date.parse('2031-01-01T00:00:00Z')
    const metadataRequests: number[] = []
    const dispatcher = createMswDispatcher([
      http.get(METADATA, () => {
        metadataRequests.push(clockMs)
        return metadata()
      }),
      http.post(TOKEN_ENDPOINT, () => tokenAnswer()),
    ])
    const newClient = () => {
      const client = createTokenClient({
        issuer: ISSUER,
        clientId: 'service-a',
        auth: clientSecretBasic('s3cret'),
        dispatcher,
        now: () => clockMs,
      })
      clients.push(client)
      return client
    }
    await newClient().getToken()
    clockMs += 60 * 60_000
    await newClient().getToken()
    expect(metadataRequests).toHaveLength(1)
    clockMs += 1
    await newClient().getToken()
    expect(metadataRequests).toHaveLength(2)
  })

  it('retries a connection reset on the metadata URL under the same policy as the token request', async () => {
    const { client, metadataRequests, tokenRequests } = discoveringSetup((n) =>
      n === 1 ? HttpResponse.error() : metadata(),
    )
    await expect(client.getToken()).resolves.toMatchObject({ tokenType: 'Bearer' })
    expect(metadataRequests).toHaveLength(2)
    expect(tokenRequests).toHaveLength(1)
  })

  it('does not retry metadata that is wrong, and does not ask the token endpoint', async () => {
    const { client, metadataRequests, tokenRequests } = discoveringSetup(() =>
      HttpResponse.json({ issuer: 'https://elsewhere.example.test', token_endpoint: TOKEN_ENDPOINT }),
    )
    await expect(client.getToken()).rejects.toBeInstanceOf(DiscoveryError)
    expect(metadataRequests).toHaveLength(1)
    expect(tokenRequests).toHaveLength(0)
  })

  it.each([
    [true, 'discovers an http issuer and token endpoint on a public host with allowInsecureHttp'],
    [false, 'never asks an http token endpoint on a public host found by discovery'],
  ])('%s: %s', async (allowInsecureHttp) => {
    const plainIssuer = 'http://as.example.test'
    const plainToken = `${plainIssuer}/token`
    const tokenRequests: string[] = []
    const dispatcher = createMswDispatcher([
      http.get(`${plainIssuer}/.well-known/oauth-authorization-server`, () =>
        HttpResponse.json({ issuer: plainIssuer, token_endpoint: plainToken }),
      ),
      http.get(METADATA, () => HttpResponse.json({ issuer: ISSUER, token_endpoint: plainToken })),
      http.post(plainToken, ({ request }) => {
        tokenRequests.push(request.url)
        return tokenAnswer()
      }),
    ])
    const client = createTokenClient({
      issuer: allowInsecureHttp ? plainIssuer : ISSUER,
      clientId: 'service-a',
      auth: clientSecretBasic('s3cret'),
      dispatcher,
      retry: false,
      allowInsecureHttp,
    })
    clients.push(client)
    if (allowInsecureHttp) {
      await expect(client.getToken()).resolves.toMatchObject({ tokenType: 'Bearer' })
      expect(tokenRequests).toEqual([plainToken])
    } else {
      await expect(client.getToken()).rejects.toBeInstanceOf(DiscoveryError)
      expect(tokenRequests).toHaveLength(0)
    }
  })

  it('gives up on a metadata URL that keeps resetting after the configured retries', async () => {
    const { client, metadataRequests } = discoveringSetup(() => HttpResponse.error())
    const error = await client.getToken().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(DiscoveryError)
    expect((error as DiscoveryError).cause).toBeInstanceOf(NetworkError)
    expect(metadataRequests).toHaveLength(4)
  })
})
