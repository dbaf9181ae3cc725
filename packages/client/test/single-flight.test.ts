import { clientSecretBasic, OAuthResponseError } from '@oauth-m2m/core'
import { delay } from 'msw'
import { afterEach, describe, expect, it } from 'vitest'
import { createTokenClient, type TokenClient } from '../src/index.js'
import { SingleFlight } from '../src/single-flight.js'
import {
  type Answer,
  oauthErrorAnswer,
  scriptedTokenServer,
  TOKEN_ENDPOINT,
  tokenAnswer,
} from './msw-token-server.js'

const clients: TokenClient[] = []
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
})

function setup(answer: Answer) {
  const server = scriptedTokenServer(answer)
  const client = createTokenClient({
    tokenEndpoint: TOKEN_ENDPOINT,
    clientId: 'service-a',
    auth: clientSecretBasic('s3cret'),
    dispatcher: server.dispatcher,
    scope: 'read',
    retry: false,
  })
  clients.push(client)
  return { server, client }
}

describe('single flight', () => {
  it('answers 1 000 concurrent calls on a cold cache with exactly one token request', async () => {
    const { server, client } = setup(async () => {
      await delay(20)
      return tokenAnswer()
    })
    const tokens = await Promise.all(Array.from({ length: 1000 }, () => client.getToken()))
    expect(server.requests).toHaveLength(1)
    expect(new Set(tokens.map((t) => t.accessToken)).size).toBe(1)
  })

  it('keeps different scopes and resources apart, and the same ones in any order together', async () => {
    const { server, client } = setup(() => tokenAnswer())
    const [a, b, c, d, e] = await Promise.all([
      client.getToken({ scope: 'read write' }),
      client.getToken({ scope: ['write', 'read'] }),
      client.getToken({ scope: 'admin' }),
      client.getToken({ resource: 'https://api.b.example.test' }),
      client.getToken({ resource: ['https://api.c.example.test', 'https://api.b.example.test'] }),
    ])
    expect(a).toBe(b)
    expect(new Set([a, c, d, e].map((t) => t.accessToken)).size).toBe(4)
    expect(server.requests).toHaveLength(4)
    const scopes = server.requests.map((r) => r.form.get('scope'))
    expect(scopes).toContain('read write')
    expect(scopes).toContain('admin')
  })

  it('keeps different audiences apart, and the same ones in any order together', async () => {
    const { server, client } = setup(() => tokenAnswer())
    const [a, b, c, d] = await Promise.all([
      client.getToken({ audience: ['urn:orders', 'https://api.b.example.test'] }),
      client.getToken({ audience: ['https://api.b.example.test', 'urn:orders', 'urn:orders'] }),
      client.getToken({ audience: 'urn:orders' }),
      client.getToken(),
    ])
    expect(a).toBe(b)
    expect(new Set([a, c, d].map((t) => t.accessToken)).size).toBe(3)
    expect(server.requests.map((r) => r.form.getAll('audience'))).toEqual(
      expect.arrayContaining([['https://api.b.example.test', 'urn:orders'], ['urn:orders'], []]),
    )
    expect(server.requests).toHaveLength(3)
    // The memo of recent keys tells calls apart by their audience too.
    const withoutAudience = await client.getToken({ scope: 'admin' })
    const withAudience = await client.getToken({ scope: 'admin', audience: 'urn:orders' })
    expect(withAudience.accessToken).not.toBe(withoutAudience.accessToken)
  })

  it('delivers a failure to every waiter and does not cache it', async () => {
    const { server, client } = setup(async (n) => {
      await delay(20)
      return n === 1 ? oauthErrorAnswer(400, 'invalid_scope') : tokenAnswer()
    })
    const results = await Promise.allSettled(Array.from({ length: 100 }, () => client.getToken()))
    expect(server.requests).toHaveLength(1)
    const reasons = new Set(results.map((r) => (r.status === 'rejected' ? r.reason : undefined)))
    expect(reasons.size).toBe(1)
    expect([...reasons][0]).toBeInstanceOf(OAuthResponseError)

    await expect(client.getToken()).resolves.toMatchObject({ tokenType: 'Bearer' })
    expect(server.requests).toHaveLength(2)
  })
})

describe('SingleFlight', () => {
  it('starts a new request once the previous one has settled', async () => {
    const flights = new SingleFlight<number>()
    let started = 0
    const start = async () => ++started
    const [x, y] = await Promise.all([flights.run('k', start), flights.run('k', start)])
    expect([x, y]).toEqual([1, 1])
    expect(flights.has('k')).toBe(false)
    expect(await flights.run('k', start)).toBe(2)
  })

  it('turns a synchronous throw into a shared rejection', async () => {
    const flights = new SingleFlight<number>()
    await expect(
      flights.run('k', () => {
        throw new Error('boom')
      }),
    ).rejects.toThrow('boom')
  })
})
