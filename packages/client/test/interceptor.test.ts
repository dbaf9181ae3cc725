import { Readable } from 'node:stream'
import { ConfigurationError } from '@oauth-m2m/core'
import { type Dispatcher, fetch, request } from 'undici'
import { afterEach, describe, expect, it } from 'vitest'
import type { TokenClient } from '../src/index.js'
import {
  API,
  bearerConformance,
  COMMON_REPLAYABLE_BODIES,
  closeClients,
  type EntryPoint,
  OTHER,
  setup,
} from './bearer-conformance.js'
import { tokenAnswer } from './msw-token-server.js'

/** One Agent per client, composed once with its interceptor, as an application would. */
const agents = new WeakMap<TokenClient, Dispatcher>()

function agentFor(client: TokenClient, dispatcher: Dispatcher): Dispatcher {
  let agent = agents.get(client)
  if (agent === undefined) {
    agent = dispatcher.compose(client.interceptor())
    agents.set(client, agent)
  }
  return agent
}

/** `client.interceptor()` through `undici.request`, with every body it takes and can send again. */
const interceptorRequest: EntryPoint = {
  async send(client, dispatcher, url, { method, headers, body, signal } = {}) {
    const res = await request(url, {
      dispatcher: agentFor(client, dispatcher),
      ...(method ? { method: method as Dispatcher.HttpMethod } : {}),
      ...(headers ? { headers } : {}),
      ...(body !== undefined ? { body: body as string } : {}),
      ...(signal ? { signal } : {}),
    })
    await res.body.text()
    return res.statusCode
  },
  streamBody: (text) => Readable.from([text]),
  replayableBodies: [...COMMON_REPLAYABLE_BODIES, ['a string', () => 'payload', 'payload']],
}

describe('client.interceptor', () => {
  bearerConformance(interceptorRequest)
})

describe('client.interceptor, its own options', () => {
  afterEach(closeClients)

  it('adds the token for allowed origins through undici fetch as well', async () => {
    const { client, calls, dispatcher, current } = setup()
    const agent = dispatcher.compose(client.interceptor())
    await (await fetch(`${API}/things`, { dispatcher: agent })).arrayBuffer()
    await (await fetch(`${OTHER}/things`, { dispatcher: agent })).arrayBuffer()
    expect(calls.map((c) => c.authorization)).toEqual([`Bearer ${await current()}`, null])
  })

  it('takes its own scope, resource and origins', async () => {
    const { client, calls, dispatcher } = setup()
    const agent = dispatcher.compose(client.interceptor({ resource: OTHER, scope: 'admin' }))
    await (await request(`${OTHER}/things`, { dispatcher: agent })).body.text()
    await (await request(`${API}/things`, { dispatcher: agent })).body.text()
    expect(calls[0]!.authorization).toMatch(/^Bearer /)
    expect(calls[1]!.authorization).toBeNull()
    expect(() => client.interceptor({ origins: ['not a url'] })).toThrow(ConfigurationError)
    expect(() => client.interceptor({ origins: ['http://api.example.test'] })).toThrow(/allowInsecureHttp/)
  })

  it('takes its own audience, whose https origin gets a token requested with it', async () => {
    const { client, calls, dispatcher } = setup({}, async (request) => {
      const form = new URLSearchParams(await request.text())
      return tokenAnswer({ access_token: `for ${form.getAll('audience').join(',')}` })
    })
    const agent = dispatcher.compose(client.interceptor({ resource: [], audience: `${OTHER}/api` }))
    await (await request(`${OTHER}/things`, { dispatcher: agent })).body.text()
    await (await request(`${API}/things`, { dispatcher: agent })).body.text()
    expect(calls.map((c) => c.authorization)).toEqual([`Bearer for ${OTHER}/api`, null])
  })
})
