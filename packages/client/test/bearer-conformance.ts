/**
 * The behaviour `client.fetch` and `client.interceptor()` share, written once and run through
 * each (authorized-fetch.test.ts, interceptor.test.ts): which origins get the token, that a
 * request meant to carry one is never sent without it, the caller's own `Authorization` and
 * `AbortSignal`, and the one replay after a 401 `invalid_token`. An adapter says how a request is
 * sent through its entry point.
 */
import { ConfigurationError, clientSecretBasic, OAuthResponseError } from '@oauth-m2m/core'
import { createMswDispatcher } from '@oauth-m2m/testing/msw'
import { HttpResponse, http } from 'msw'
import { type Dispatcher, FormData } from 'undici'
import { afterEach, expect, it } from 'vitest'
import {
  createTokenClient,
  type TokenClient,
  type TokenClientOptions,
  TokenUnavailableError,
} from '../src/index.js'
import { oauthErrorAnswer, TOKEN_ENDPOINT, tokenAnswer } from './msw-token-server.js'

/** The API whose origin is the client's `resource`. */
export const API = 'https://api.example.test'
/** Another origin, which gets no token unless told so. */
export const OTHER = 'https://other.example.test'
/** The API's host over plain http: not loopback, so no token unless `allowInsecureHttp`. */
export const PLAIN_API = 'http://api.example.test'

/** One request as the API received it. */
export interface ApiCall {
  authorization: string | null
  body: string
}

/** A request, in the terms both entry points understand. */
export interface SendOptions {
  method?: string
  headers?: Record<string, string>
  body?: unknown
  signal?: AbortSignal
}

/** How a request is sent through one entry point. */
export interface EntryPoint {
  /**
   * Sends a request through the client (its `fetch`, or an Agent composed with its interceptor
   * over `dispatcher`), reads the whole answer and returns its status. Rejects as the entry point
   * does.
   */
  send(client: TokenClient, dispatcher: Dispatcher, url: string, options?: SendOptions): Promise<number>
  /** A body that can be read only once, holding `text`. */
  streamBody(text: string): unknown
  /** Bodies the entry point can replay (see {@link COMMON_REPLAYABLE_BODIES}). */
  replayableBodies: readonly ReplayableBody[]
}

/** A replayable body, its name, and what the API must receive (exactly, or matching). */
export type ReplayableBody = readonly [string, () => unknown, string | RegExp]

/** Bodies both entry points can send again: none, bytes and undici's `FormData`. */
export const COMMON_REPLAYABLE_BODIES: readonly ReplayableBody[] = [
  ['no body', () => undefined, ''],
  ['bytes', () => new TextEncoder().encode('bytes'), 'bytes'],
  [
    'FormData',
    () => {
      const form = new FormData()
      form.set('field', 'value')
      return form
    },
    /name="field"\r\n\r\nvalue\r\n/,
  ],
]

const clients: TokenClient[] = []

/** Closes every client made by {@link setup}; call from the test file (it owns the hooks). */
export async function closeClients(): Promise<void> {
  await Promise.all(clients.splice(0).map((c) => c.close()))
}

/** What the token endpoint does. */
export type TokenBehaviour = 'answers' | 'refuses' | ((request: Request) => Promise<Response>)

/**
 * A token endpoint and two APIs behind one msw dispatcher. The APIs answer 401 invalid_token to
 * the tokens listed in `revoked` (`*` for all), and `/plain-401` answers a 401 that does not say
 * invalid_token.
 */
export function setup(options: Partial<TokenClientOptions> = {}, token: TokenBehaviour = 'answers') {
  const calls: ApiCall[] = []
  const revoked = new Set<string>()
  const api = async ({ request }: { request: Request }) => {
    const authorization = request.headers.get('authorization')
    calls.push({ authorization, body: await request.text() })
    if (new URL(request.url).pathname === '/plain-401') {
      return new HttpResponse(null, { status: 401, headers: { 'www-authenticate': 'Bearer realm="api"' } })
    }
    if (authorization !== null && (revoked.has('*') || revoked.has(authorization.slice('Bearer '.length)))) {
      return new HttpResponse('revoked', {
        status: 401,
        headers: { 'www-authenticate': 'Bearer realm="api", error="invalid_token"' },
      })
    }
    return HttpResponse.json({ ok: true })
  }
  const dispatcher = createMswDispatcher([
    http.post(TOKEN_ENDPOINT, ({ request }) => {
      if (token === 'refuses') return oauthErrorAnswer(401, 'invalid_client')
      if (token === 'answers') return tokenAnswer()
      return token(request)
    }),
    http.all(`${API}/*`, api),
    http.all(`${OTHER}/*`, api),
    http.all(`${PLAIN_API}/*`, api),
  ])
  const client = createTokenClient({
    tokenEndpoint: TOKEN_ENDPOINT,
    clientId: 'service-a',
    auth: clientSecretBasic('s3cret'),
    resource: API,
    dispatcher,
    retry: false,
    ...options,
  })
  clients.push(client)
  /** The access token the client holds now. */
  const current = async () => (await client.getToken()).accessToken
  return { client, calls, revoked, current, dispatcher }
}

/** Registers the shared specification in the current `describe` block. */
export function bearerConformance(entry: EntryPoint): void {
  afterEach(closeClients)

  it('sends the token to the origin of the configured resource, and other origins none', async () => {
    const { client, calls, current, dispatcher } = setup()
    expect(await entry.send(client, dispatcher, `${API}/things`)).toBe(200)
    expect(await entry.send(client, dispatcher, `${OTHER}/things`)).toBe(200)
    expect(calls.map((c) => c.authorization)).toEqual([`Bearer ${await current()}`, null])
  })

  it('uses the origins option instead of the resource origins when given', async () => {
    const { client, calls, current, dispatcher } = setup({ origins: [OTHER] })
    await entry.send(client, dispatcher, `${API}/things`)
    await entry.send(client, dispatcher, `${OTHER}/things`)
    expect(calls.map((c) => c.authorization)).toEqual([null, `Bearer ${await current()}`])
  })

  it('sends the token to the origin of an https audience, as to a resource', async () => {
    const { client, calls, current, dispatcher } = setup({
      resource: undefined,
      audience: [`${API}/v2`, 'urn:x'],
    })
    await entry.send(client, dispatcher, `${API}/things`)
    await entry.send(client, dispatcher, `${OTHER}/things`)
    expect(calls.map((c) => c.authorization)).toEqual([`Bearer ${await current()}`, null])
  })

  it.each([
    ['an audience that is not a URL', 'orders-api'],
    ['a plain http audience on a public host', 'http://api.example.test'],
  ])('finds no origin in %s', async (_, audience) => {
    const { client, calls, dispatcher } = setup({ resource: undefined, audience })
    await expect(entry.send(client, dispatcher, `${API}/things`)).rejects.toThrow(/set `origins`/)
    expect(calls).toHaveLength(0)
  })

  it.each([
    ['resource', { resource: PLAIN_API }],
    ['audience', { resource: undefined, audience: PLAIN_API }],
  ])('sends no token over http to a public host for a %s without allowInsecureHttp', async (_, options) => {
    const { client, calls, dispatcher } = setup(options)
    await expect(entry.send(client, dispatcher, `${PLAIN_API}/things`)).rejects.toThrow(/allowInsecureHttp/)
    expect(calls).toHaveLength(0)
  })

  it.each([
    ['resource', { resource: PLAIN_API }],
    ['audience', { resource: undefined, audience: PLAIN_API }],
  ])('sends the token over http to a public host for a %s with allowInsecureHttp', async (_, options) => {
    const { client, calls, current, dispatcher } = setup({ ...options, allowInsecureHttp: true })
    expect(await entry.send(client, dispatcher, `${PLAIN_API}/things`)).toBe(200)
    expect(calls.map((c) => c.authorization)).toEqual([`Bearer ${await current()}`])
  })

  it('refuses to guess when neither origins nor resource is set', async () => {
    const { client, calls, dispatcher } = setup({ resource: undefined })
    await expect(entry.send(client, dispatcher, `${API}/things`)).rejects.toBeInstanceOf(ConfigurationError)
    await expect(entry.send(client, dispatcher, `${API}/things`)).rejects.toThrow(/set `origins`/)
    expect(() => client.interceptor()).toThrow(ConfigurationError)
    expect(calls).toHaveLength(0)
  })

  it('does not send a request that needs a token when none can be obtained', async () => {
    const { client, calls, dispatcher } = setup({}, 'refuses')
    const error = await entry.send(client, dispatcher, `${API}/things`).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TokenUnavailableError)
    expect((error as TokenUnavailableError).origin).toBe(API)
    expect((error as TokenUnavailableError).cause).toBeInstanceOf(OAuthResponseError)
    expect(calls).toHaveLength(0)
  })

  it('stops waiting for the token when the caller aborts, sends nothing, and the token still comes for others', async () => {
    let answer: () => void = () => {}
    const answered = new Promise<void>((resolve) => {
      answer = resolve
    })
    const { client, calls, dispatcher } = setup({}, async () => {
      await answered
      return tokenAnswer()
    })
    const controller = new AbortController()
    const reason = new Error('caller gave up')
    const pending = entry.send(client, dispatcher, `${API}/things`, { signal: controller.signal })
    controller.abort(reason)
    // The token endpoint has not answered yet: only the signal can end this call.
    await expect(pending).rejects.toBe(reason)
    answer()
    await expect(client.getToken()).resolves.toMatchObject({ tokenType: 'Bearer' })
    expect(calls).toHaveLength(0)
  })

  it('leaves a request that already carries an Authorization header as it is', async () => {
    const { client, calls, dispatcher } = setup()
    await entry.send(client, dispatcher, `${API}/things`, { headers: { Authorization: 'Bearer mine' } })
    expect(calls[0]!.authorization).toBe('Bearer mine')
  })

  it.each(entry.replayableBodies)(
    'on 401 invalid_token fetches one new token and sends the request once more, with %s',
    async (_, body, expected) => {
      const { client, calls, revoked, current, dispatcher } = setup()
      const old = await current()
      revoked.add(old)
      const b = body()
      const status = await entry.send(client, dispatcher, `${API}/things`, {
        method: b === undefined ? 'GET' : 'POST',
        ...(b === undefined ? {} : { body: b }),
      })
      expect(status).toBe(200)
      expect(calls).toHaveLength(2)
      const fresh = await current()
      expect(fresh).not.toBe(old)
      expect(calls.map((c) => c.authorization)).toEqual([`Bearer ${old}`, `Bearer ${fresh}`])
      for (const call of calls) {
        if (typeof expected === 'string') expect(call.body).toBe(expected)
        else expect(call.body).toMatch(expected)
      }
    },
  )

  it('does not replay a stream body, but drops the rejected token for the next call', async () => {
    const { client, calls, revoked, current, dispatcher } = setup()
    const old = await current()
    revoked.add(old)
    const status = await entry.send(client, dispatcher, `${API}/things`, {
      method: 'POST',
      body: entry.streamBody('streamed'),
    })
    expect(status).toBe(401)
    expect(calls).toHaveLength(1)
    expect(calls[0]!.body).toBe('streamed')
    expect(await current()).not.toBe(old)
  })

  it('sends the request once more only, when the new token is refused too', async () => {
    const { client, calls, revoked, dispatcher } = setup()
    revoked.add('*')
    expect(await entry.send(client, dispatcher, `${API}/things`)).toBe(401)
    expect(calls).toHaveLength(2)
    expect(calls[0]!.authorization).not.toBe(calls[1]!.authorization)
  })

  it('does not drop the token nor send again on a 401 that does not say invalid_token', async () => {
    const { client, calls, dispatcher } = setup()
    const first = await client.getToken()
    expect(await entry.send(client, dispatcher, `${API}/plain-401`)).toBe(401)
    expect(calls).toHaveLength(1)
    expect(await client.getToken()).toBe(first)
  })
}
