import { createHash } from 'node:crypto'
import { MemoryServerStore, type ServerStore, type StoredTokenClaims } from '@oauth-m2m/server'
import { describe, expect, it, vi } from 'vitest'
import { describeSharedStateContract } from './server-store-contract.js'
import { basic, expectOAuthError, postForm, startServer } from './test-server.js'

const OPAQUE_API = 'https://opaque.example.com/'

describe('MemoryServerStore', () => {
  it('spends a one-time value once per use', async () => {
    const store = new MemoryServerStore()
    const expiresAtMs = Date.now() + 60_000
    expect(await store.useOnce('client-assertion', 'k1', expiresAtMs)).toBe(true)
    expect(await store.useOnce('client-assertion', 'k1', expiresAtMs)).toBe(false)
    expect(await store.useOnce('client-assertion', 'k2', expiresAtMs)).toBe(true)
    expect(await store.useOnce('dpop-proof', 'k1', expiresAtMs)).toBe(true)
    expect(await store.useOnce('dpop-proof', 'k1', expiresAtMs)).toBe(false)
  })

  it('keeps a one-time value until its expiry and no longer', async () => {
    const clock = { ms: 1_700_000_000_000, now: () => clock.ms }
    const store = new MemoryServerStore({ now: clock.now })
    expect(await store.useOnce('dpop-proof', 'k', clock.ms + 61_000)).toBe(true)
    clock.ms += 60_999
    expect(await store.useOnce('dpop-proof', 'k', clock.ms + 61_000)).toBe(false)
    clock.ms += 2
    expect(await store.useOnce('dpop-proof', 'k', clock.ms + 61_000)).toBe(true)
  })

  it('refuses an unknown use', async () => {
    await expect(
      new MemoryServerStore().useOnce('toString' as never, 'k', Date.now() + 1000),
    ).rejects.toThrow(TypeError)
  })

  it('forgets a deleted opaque token and remembers a revoked jti', async () => {
    const store = new MemoryServerStore()
    const claims = { jti: 'j' } as StoredTokenClaims
    await store.saveOpaqueToken('h', claims, Date.now() + 60_000)
    expect(await store.findOpaqueToken('h')).toBe(claims)
    await store.deleteOpaqueToken('h')
    expect(await store.findOpaqueToken('h')).toBeUndefined()
    await store.revokeJti('j', Date.now() + 60_000)
    expect(await store.isJtiRevoked('j')).toBe(true)
    expect(await store.isJtiRevoked('k')).toBe(false)
  })
})

describe('a custom ServerStore', () => {
  it('keeps the opaque tokens the server issues', async () => {
    const memory = new MemoryServerStore()
    const saveOpaqueToken = vi.fn(memory.saveOpaqueToken.bind(memory))
    const store: ServerStore = Object.assign(memory, { saveOpaqueToken })
    const { url } = await startServer({
      clients: [{ client_id: 'svc', client_secret: 'svc-secret' }],
      resources: [{ resource: OPAQUE_API, tokenFormat: 'opaque' }],
      store,
    })
    const answer = await postForm(
      `${url}/token`,
      { grant_type: 'client_credentials', resource: OPAQUE_API },
      basic('svc', 'svc-secret'),
    )
    expect(answer.status).toBe(200)
    expect(saveOpaqueToken).toHaveBeenCalledOnce()
    const [hash, claims] = saveOpaqueToken.mock.calls[0]!
    // Only the SHA-256 digest of the token is handed to the store, never the token itself.
    expect(hash).toBe(createHash('sha256').update(answer.json.access_token).digest('base64url'))
    expect(JSON.stringify(saveOpaqueToken.mock.calls[0])).not.toContain(answer.json.access_token)
    expect(claims).toMatchObject({ client_id: 'svc', aud: OPAQUE_API })
  })

  it('turns a failing store into a 503 temporarily_unavailable, reported without credentials', async () => {
    const failing = new MemoryServerStore()
    failing.saveOpaqueToken = () => Promise.reject(new Error('store is down'))
    const reported: unknown[] = []
    const { url } = await startServer({
      clients: [{ client_id: 'svc', client_secret: 'svc-secret' }],
      resources: [{ resource: OPAQUE_API, tokenFormat: 'opaque' }],
      store: failing,
      onInternalError: (error) => reported.push(error),
    })
    const answer = await postForm(
      `${url}/token`,
      { grant_type: 'client_credentials', resource: OPAQUE_API },
      basic('svc', 'svc-secret'),
    )
    expectOAuthError(answer, 503, 'temporarily_unavailable')
    expect(answer.headers.get('retry-after')).toBe('2')
    expect(answer.text).not.toContain('store is down')
    expect(reported).toHaveLength(1)
    const error = reported[0] as Error
    expect(`${error.message} ${error.stack}`).not.toContain('svc-secret')
    // The server keeps serving.
    expect(
      (await postForm(`${url}/token`, { grant_type: 'client_credentials' }, basic('svc', 'svc-secret')))
        .status,
    ).toBe(200)
  })
})

describeSharedStateContract('MemoryServerStore', async () => ({ store: new MemoryServerStore() }))

describe('MemoryServerStore registrations', () => {
  it('refuses a new registration beyond maxRegisteredClients, and takes it after a deletion', async () => {
    const store = new MemoryServerStore({ maxRegisteredClients: 2 })
    await store.saveClient({ client_id: 'a' })
    await store.saveClient({ client_id: 'b' })
    expect(await store.saveClient({ client_id: 'c' })).toMatchObject({ fullUntilMs: expect.any(Number) })
    // Replacing an existing registration needs no room.
    expect(await store.saveClient({ client_id: 'a', scope: 'x' })).toBeUndefined()
    await store.deleteClient('b')
    expect(await store.saveClient({ client_id: 'c' })).toBeUndefined()
  })
})
