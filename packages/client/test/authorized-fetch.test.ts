import { Readable } from 'node:stream'
import { ConfigurationError, clientSecretBasic, OAuthResponseError } from '@oauth-m2m/core'
import { createMswDispatcher } from '@oauth-m2m/testing/msw'
import { delay, HttpResponse, http } from 'msw'
import { FormData, request } from 'undici'
import { afterEach, describe, expect, it } from 'vitest'
import {
  createTokenClient,
  type TokenClient,
  type TokenClientOptions,
  TokenUnavailableError,
} from '../src/index.js'
import { oauthErrorAnswer, TOKEN_ENDPOINT, tokenAnswer } from './msw-token-server.js'

const API = 'https://api.example.test'
const OTHER = 'https://other.example.test'

interface ApiCall {
  authorization: string | null
  body: string
}

const clients: TokenClient[] = []
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
})

/**
 * A token endpoint and two APIs behind one msw dispatcher. The API answers 401 invalid_token to
 * the tokens listed in `revoked`.
 */
function setup(options: Partial<TokenClientOptions> = {}, tokenFails = false) {
  const tokens: string[] = []
  const calls: ApiCall[] = []
  const revoked = new Set<string>()
  const api = async ({ request }: { request: Request }) => {
    const authorization = request.headers.get('authorization')
    calls.push({ authorization, body: await request.text() })
    if (authorization !== null && (revoked.has('*') || revoked.has(authorization.slice('Bearer '.length)))) {
      return new HttpResponse('revoked', {
        status: 401,
        headers: { 'www-authenticate': 'Bearer realm="api", error="invalid_token"' },
      })
    }
    return HttpResponse.json({ ok: true })
  }
  const dispatcher = createMswDispatcher([
    http.post(TOKEN_ENDPOINT, () => {
      if (tokenFails) return oauthErrorAnswer(401, 'invalid_client')
      const answer = tokenAnswer()
      return answer
    }),
    http.all(`${API}/*`, api),
    http.all(`${OTHER}/*`, api),
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
  const issued = async () => {
    const token = (await client.getToken()).accessToken
    if (!tokens.includes(token)) tokens.push(token)
    return token
  }
  return { client, calls, revoked, issued, dispatcher }
}

describe('client.fetch', () => {
  it('sends the token to the origin of the configured resource', async () => {
    const { client, calls, issued } = setup()
    const res = await client.fetch(`${API}/things`)
    expect(res.status).toBe(200)
    expect(calls[0]!.authorization).toBe(`Bearer ${await issued()}`)
  })

  it('sends other origins no token', async () => {
    const { client, calls } = setup()
    await client.fetch(`${OTHER}/things`)
    expect(calls[0]!.authorization).toBeNull()
  })

  it('uses the origins option instead of the resource origins when given', async () => {
    const { client, calls } = setup({ origins: [OTHER] })
    await client.fetch(`${API}/things`)
    await client.fetch(`${OTHER}/things`)
    expect(calls[0]!.authorization).toBeNull()
    expect(calls[1]!.authorization).toMatch(/^Bearer /)
  })

  it('refuses to guess when neither origins nor resource is set', async () => {
    const { client, calls } = setup({ resource: undefined })
    await expect(client.fetch(`${API}/things`)).rejects.toBeInstanceOf(ConfigurationError)
    await expect(client.fetch(`${API}/things`)).rejects.toThrow(/set `origins`/)
    expect(() => client.interceptor()).toThrow(ConfigurationError)
    expect(calls).toHaveLength(0)
  })

  it('does not send a request that needs a token when none can be obtained', async () => {
    const { client, calls } = setup({}, true)
    const error = await client.fetch(`${API}/things`).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TokenUnavailableError)
    expect((error as TokenUnavailableError).origin).toBe(API)
    expect((error as TokenUnavailableError).cause).toBeInstanceOf(OAuthResponseError)
    expect(calls).toHaveLength(0)
  })

  it('stops waiting for the token when the caller aborts, and sends nothing', async () => {
    let apiCalls = 0
    const dispatcher = createMswDispatcher([
      http.post(TOKEN_ENDPOINT, async () => {
        await delay(200)
        return tokenAnswer()
      }),
      http.all(`${API}/*`, () => {
        apiCalls++
        return HttpResponse.json({ ok: true })
      }),
    ])
    const client = createTokenClient({
      tokenEndpoint: TOKEN_ENDPOINT,
      clientId: 'service-a',
      auth: clientSecretBasic('s3cret'),
      resource: API,
      dispatcher,
    })
    clients.push(client)
    const controller = new AbortController()
    const reason = new Error('caller gave up')
    const pending = client.fetch(`${API}/things`, { signal: controller.signal })
    controller.abort(reason)
    await expect(pending).rejects.toBe(reason)
    // The shared token request still completes for other callers; the aborted request never went out.
    await client.getToken()
    expect(apiCalls).toBe(0)
  })

  it('leaves a request that already carries an Authorization header as it is', async () => {
    const { client, calls } = setup()
    await client.fetch(`${API}/things`, { headers: { Authorization: 'Bearer mine' } })
    expect(calls[0]!.authorization).toBe('Bearer mine')
  })

  const replayable: [string, () => unknown, string][] = [
    ['no body', () => undefined, ''],
    ['a string', () => 'hello', 'hello'],
    ['bytes', () => new TextEncoder().encode('bytes'), 'bytes'],
    ['URLSearchParams', () => new URLSearchParams({ a: '1' }), 'a=1'],
    [
      'FormData',
      () => {
        const f = new FormData()
        f.set('field', 'value')
        return f
      },
      'value',
    ],
  ]

  it.each(replayable)(
    'on 401 invalid_token fetches one new token and retries once, with %s',
    async (_, body, expected) => {
      const { client, calls, revoked, issued } = setup()
      const old = await issued()
      revoked.add(old)
      const b = body()
      const res = await client.fetch(`${API}/things`, {
        method: b === undefined ? 'GET' : 'POST',
        ...(b === undefined ? {} : { body: b as string }),
      })
      expect(res.status).toBe(200)
      expect(calls).toHaveLength(2)
      const fresh = await issued()
      expect(fresh).not.toBe(old)
      expect(calls[1]!.authorization).toBe(`Bearer ${fresh}`)
      expect(calls[1]!.body).toContain(expected)
    },
  )

  it('does not replay a stream body, but drops the rejected token for the next call', async () => {
    const { client, calls, revoked, issued } = setup()
    const old = await issued()
    revoked.add(old)
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('streamed'))
        controller.close()
      },
    })
    const res = await client.fetch(`${API}/things`, { method: 'POST', body: stream, duplex: 'half' })
    expect(res.status).toBe(401)
    expect(calls).toHaveLength(1)
    expect(await issued()).not.toBe(old)
  })

  it('retries only once when the new token is refused too', async () => {
    const { client, calls, revoked } = setup()
    revoked.add('*')
    const res = await client.fetch(`${API}/things`)
    expect(res.status).toBe(401)
    expect(calls).toHaveLength(2)
    expect(calls[0]!.authorization).not.toBe(calls[1]!.authorization)
  })

  it('does not retry a 401 that does not say invalid_token', async () => {
    const dispatcher = createMswDispatcher([
      http.post(TOKEN_ENDPOINT, () => tokenAnswer()),
      http.get(
        `${API}/*`,
        () => new HttpResponse(null, { status: 401, headers: { 'www-authenticate': 'Bearer realm="api"' } }),
      ),
    ])
    const client = createTokenClient({
      tokenEndpoint: TOKEN_ENDPOINT,
      clientId: 'service-a',
      auth: clientSecretBasic('s3cret'),
      resource: API,
      dispatcher,
    })
    clients.push(client)
    const first = await client.getToken()
    const res = await client.fetch(`${API}/x`)
    expect(res.status).toBe(401)
    expect(await client.getToken()).toBe(first)
  })
})

describe('client.interceptor', () => {
  it('adds the token for allowed origins only, through any undici API', async () => {
    const { client, calls, dispatcher, issued } = setup()
    const agent = dispatcher.compose(client.interceptor())
    await (await request(`${API}/things`, { dispatcher: agent })).body.text()
    await (await request(`${OTHER}/things`, { dispatcher: agent })).body.text()
    expect(calls[0]!.authorization).toBe(`Bearer ${await issued()}`)
    expect(calls[1]!.authorization).toBeNull()
  })

  it('replays a request once after 401 invalid_token with a new token', async () => {
    const { client, calls, dispatcher, revoked, issued } = setup()
    const old = await issued()
    revoked.add(old)
    const agent = dispatcher.compose(client.interceptor())
    const res = await request(`${API}/things`, { method: 'POST', body: 'payload', dispatcher: agent })
    expect(res.statusCode).toBe(200)
    await res.body.text()
    expect(calls).toHaveLength(2)
    expect(calls[1]!.authorization).toBe(`Bearer ${await issued()}`)
    expect(calls[1]!.body).toBe('payload')
  })

  it('leaves a request that already carries an Authorization header as it is', async () => {
    const { client, calls, dispatcher } = setup()
    const agent = dispatcher.compose(client.interceptor())
    await (
      await request(`${API}/things`, { headers: { authorization: 'Bearer mine' }, dispatcher: agent })
    ).body.text()
    expect(calls[0]!.authorization).toBe('Bearer mine')
  })

  it('does not replay a stream body, but drops the rejected token for the next call', async () => {
    const { client, calls, dispatcher, revoked, issued } = setup()
    const old = await issued()
    revoked.add(old)
    const agent = dispatcher.compose(client.interceptor())
    const res = await request(`${API}/things`, {
      method: 'POST',
      body: Readable.from(['streamed']),
      dispatcher: agent,
    })
    expect(res.statusCode).toBe(401)
    await res.body.text()
    expect(calls).toHaveLength(1)
    expect(await issued()).not.toBe(old)
  })

  it('retries only once when the new token is refused too', async () => {
    const { client, calls, dispatcher, revoked } = setup()
    revoked.add('*')
    const agent = dispatcher.compose(client.interceptor())
    const res = await request(`${API}/things`, { dispatcher: agent })
    expect(res.statusCode).toBe(401)
    await res.body.text()
    expect(calls).toHaveLength(2)
    expect(calls[0]!.authorization).not.toBe(calls[1]!.authorization)
  })

  it('stops waiting for the token when the caller aborts, and sends nothing', async () => {
    let apiCalls = 0
    const dispatcher = createMswDispatcher([
      http.post(TOKEN_ENDPOINT, async () => {
        await delay('infinite')
        return tokenAnswer()
      }),
      http.all(`${API}/*`, () => {
        apiCalls++
        return HttpResponse.json({ ok: true })
      }),
    ])
    const client = createTokenClient({
      tokenEndpoint: TOKEN_ENDPOINT,
      clientId: 'service-a',
      auth: clientSecretBasic('s3cret'),
      resource: API,
      dispatcher,
    })
    clients.push(client)
    const controller = new AbortController()
    const reason = new Error('caller gave up')
    const pending = request(`${API}/things`, {
      signal: controller.signal,
      dispatcher: dispatcher.compose(client.interceptor()),
    })
    controller.abort(reason)
    // The token request never answers: only the signal can end this call.
    await expect(pending).rejects.toBe(reason)
    expect(apiCalls).toBe(0)
  })

  it('fails the request without sending it when no token can be obtained', async () => {
    const { client, calls, dispatcher } = setup({}, true)
    const agent = dispatcher.compose(client.interceptor())
    await expect(request(`${API}/things`, { dispatcher: agent })).rejects.toBeInstanceOf(
      TokenUnavailableError,
    )
    expect(calls).toHaveLength(0)
  })

  it('takes its own scope, resource and origins', async () => {
    const { client, calls, dispatcher } = setup()
    const agent = dispatcher.compose(client.interceptor({ resource: OTHER, scope: 'admin' }))
    await (await request(`${OTHER}/things`, { dispatcher: agent })).body.text()
    await (await request(`${API}/things`, { dispatcher: agent })).body.text()
    expect(calls[0]!.authorization).toMatch(/^Bearer /)
    expect(calls[1]!.authorization).toBeNull()
    expect(() => client.interceptor({ origins: ['not a url'] })).toThrow(ConfigurationError)
  })
})
