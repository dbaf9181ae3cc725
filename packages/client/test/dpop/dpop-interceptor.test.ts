import { Readable } from 'node:stream'
import { type Dispatcher, request } from 'undici'
import { describe } from 'vitest'
import type { TokenClient } from '../../src/index.js'
import { dpopConformance, type EntryPoint } from './dpop-conformance.js'

const agents = new WeakMap<TokenClient, Dispatcher>()

function agentFor(client: TokenClient, dispatcher: Dispatcher): Dispatcher {
  let agent = agents.get(client)
  if (agent === undefined) {
    agent = dispatcher.compose(client.interceptor())
    agents.set(client, agent)
  }
  return agent
}

/** `client.interceptor()` through `undici.request`. */
const interceptorRequest: EntryPoint = {
  async send(client, dispatcher, url, { method, headers, body } = {}) {
    const res = await request(url, {
      dispatcher: agentFor(client, dispatcher),
      ...(method ? { method: method as Dispatcher.HttpMethod } : {}),
      ...(headers ? { headers } : {}),
      ...(body !== undefined ? { body: body as string } : {}),
    })
    await res.body.text()
    return res.statusCode
  },
  streamBody: (text) => Readable.from([text]),
  wireMethod: (method) => method,
}

describe('client.interceptor with DPoP', () => {
  dpopConformance(interceptorRequest)
})
