import diagnostics_channel from 'node:diagnostics_channel'
import { clientSecretBasic } from '@oauth-m2m/core'
import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  CLIENT_CHANNELS,
  createTokenClient,
  MemoryTokenStore,
  type StoreErrorMessage,
  type TokenClient,
  type TokenSet,
  type TokenStore,
} from '../src/index.js'
import { scriptedTokenServer, TOKEN_ENDPOINT, tokenAnswer } from './msw-token-server.js'

const clients: TokenClient[] = []
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
})

function setup(store: TokenStore, storeTimeoutMs?: number) {
  const server = scriptedTokenServer(() => tokenAnswer())
  const make = () => {
    const client = createTokenClient({
      tokenEndpoint: TOKEN_ENDPOINT,
      clientId: 'service-a',
      auth: clientSecretBasic('s3cret'),
      dispatcher: server.dispatcher,
      store,
      ...(storeTimeoutMs === undefined ? {} : { storeTimeoutMs }),
    })
    clients.push(client)
    return client
  }
  return { server, make }
}

function storeErrors(): { messages: StoreErrorMessage[]; stop: () => void } {
  const messages: StoreErrorMessage[] = []
  const fn = (m: unknown) => messages.push(m as StoreErrorMessage)
  diagnostics_channel.subscribe(CLIENT_CHANNELS.storeError, fn)
  return { messages, stop: () => diagnostics_channel.unsubscribe(CLIENT_CHANNELS.storeError, fn) }
}

describe('MemoryTokenStore', () => {
  it('keeps a token for its ttl', async () => {
    const store = new MemoryTokenStore()
    const token = { accessToken: 'x' } as TokenSet
    store.set('k', token, 30)
    expect(store.get('k')).toBe(token)
    await new Promise((r) => setTimeout(r, 60))
    expect(store.get('k')).toBeUndefined()
  })

  it('drops the least recently used token beyond maxEntries', () => {
    const store = new MemoryTokenStore({ maxEntries: 2 })
    for (const k of ['a', 'b', 'c']) store.set(k, { accessToken: k } as TokenSet, 60_000)
    expect(store.get('a')).toBeUndefined()
    expect(store.get('c')?.accessToken).toBe('c')
  })
})

describe('a shared store', () => {
  it('lets a second client use the token the first one fetched', async () => {
    const { server, make } = setup(new MemoryTokenStore())
    const first = await make().getToken()
    const second = await make().getToken()
    expect(second.accessToken).toBe(first.accessToken)
    expect(server.requests).toHaveLength(1)
  })

  it('is bypassed when it throws, and the failure is published', async () => {
    const errors = storeErrors()
    try {
      const failing: TokenStore = {
        get: () => Promise.reject(new Error('redis down')),
        set: () => Promise.reject(new Error('redis down')),
        delete: () => Promise.reject(new Error('redis down')),
      }
      const { server, make } = setup(failing)
      const client = make()
      await expect(client.getToken()).resolves.toMatchObject({ tokenType: 'Bearer' })
      expect(server.requests).toHaveLength(1)
      await vi.waitFor(() => expect(errors.messages.map((m) => m.operation).sort()).toEqual(['get', 'set']))
      // The store's own error is described, not handed out: it is the user's object, not ours.
      for (const { error } of errors.messages) {
        expect(error).not.toBeInstanceOf(Error)
        expect(error).toEqual({ name: 'Error', code: undefined, message: 'redis down' })
      }
    } finally {
      errors.stop()
    }
  })

  it('is bypassed when it does not answer within storeTimeoutMs', async () => {
    const errors = storeErrors()
    try {
      const hanging: TokenStore = {
        get: () => new Promise(() => {}),
        set: () => {},
        delete: () => {},
      }
      const { server, make } = setup(hanging, 50)
      await expect(make().getToken()).resolves.toMatchObject({ tokenType: 'Bearer' })
      expect(server.requests).toHaveLength(1)
      expect(errors.messages[0]).toMatchObject({ operation: 'get' })
      expect(errors.messages[0]!.error).toEqual({
        name: 'StoreTimeoutError',
        code: undefined,
        message: 'token store get did not answer within 50 ms',
      })
    } finally {
      errors.stop()
    }
  })

  it('ignores a stored value that is not a TokenSet', async () => {
    const errors = storeErrors()
    try {
      const garbage: TokenStore = {
        get: () => ({ nope: true }) as unknown as TokenSet,
        set: () => {},
        delete: () => {},
      }
      const { server, make } = setup(garbage)
      await expect(make().getToken()).resolves.toMatchObject({ tokenType: 'Bearer' })
      expect(server.requests).toHaveLength(1)
      expect(errors.messages).toHaveLength(1)
    } finally {
      errors.stop()
    }
  })

  it('is not consulted while the token is in memory', async () => {
    let gets = 0
    const inner = new MemoryTokenStore()
    const counting: TokenStore = {
      get: (k) => {
        gets++
        return inner.get(k)
      },
      set: (k, v, ttl) => inner.set(k, v, ttl),
      delete: (k) => inner.delete(k),
    }
    const { make } = setup(counting)
    const client = make()
    await client.getToken()
    await client.getToken()
    await client.getToken()
    expect(gets).toBe(1)
  })

  it('loses the token on invalidate', async () => {
    const inner = new MemoryTokenStore()
    let deletes = 0
    const store: TokenStore = {
      get: (k) => inner.get(k),
      set: (k, v, ttl) => inner.set(k, v, ttl),
      delete: (k) => {
        deletes++
        inner.delete(k)
      },
    }
    const { server, make } = setup(store)
    const client = make()
    const first = await client.getToken()
    client.invalidate()
    await vi.waitFor(() => expect(deletes).toBe(1))
    const second = await make().getToken()
    expect(second.accessToken).not.toBe(first.accessToken)
    expect(server.requests).toHaveLength(2)
  })
})
