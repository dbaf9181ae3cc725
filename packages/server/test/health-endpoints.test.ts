/**
 * `/healthz` and `/readyz`: liveness of the process and readiness of its store, over both adapters,
 * GET (and HEAD) only, and never in the OAuth metadata.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { call, ISSUER, sharedStore, startFleet, testClock } from './fleet.js'
import { faultyStore } from './store-wrappers.js'
import { send, startServer } from './test-server.js'

afterEach(() => {
  vi.useRealTimers()
})

const CLIENTS = [{ client_id: 'svc', client_secret: 'svc-secret' }]

describe('/healthz and /readyz', () => {
  it('answer 200 {"status":"ok"} over node:http with the default store', async () => {
    const { url } = await startServer({ clients: CLIENTS })
    for (const path of ['/healthz', '/readyz']) {
      const answer = await send(`${url}${path}`)
      expect(answer.status).toBe(200)
      expect(answer.json).toEqual({ status: 'ok' })
      expect(answer.headers.get('cache-control')).toBe('no-store')
    }
  })

  it('readyz answers 503 over node:http when the store cannot be reached, and 200 once it is back', async () => {
    const store = faultyStore()
    const { url } = await startServer({ clients: CLIENTS, store })
    store.mode = 'reject'
    const down = await send(`${url}/readyz`)
    expect(down.status).toBe(503)
    expect(down.json).toEqual({ status: 'unavailable' })
    expect(down.text).not.toContain('hunter2')
    expect((await send(`${url}/healthz`)).status).toBe(200)
    store.mode = 'none'
    expect((await send(`${url}/readyz`)).status).toBe(200)
  })

  it('readyz answers 503 through handle() when the ping does not answer within 2 s', async () => {
    const clock = testClock()
    const store = faultyStore(sharedStore(clock))
    const [server] = await startFleet(1, { store, now: clock.now })
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    store.mode = 'hang'
    const pending = call(server!, '/readyz')
    await vi.advanceTimersByTimeAsync(1999)
    let settled = false
    void pending.then(() => {
      settled = true
    })
    await Promise.resolve()
    expect(settled).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    expect((await pending).status).toBe(503)
    vi.useRealTimers()
    store.mode = 'none'
    expect((await call(server!, '/readyz')).status).toBe(200)
    expect((await call(server!, '/healthz')).json).toEqual({ status: 'ok' })
  })

  it('answer GET and HEAD only', async () => {
    const { url } = await startServer({ clients: CLIENTS })
    for (const path of ['/healthz', '/readyz']) {
      const answer = await send(`${url}${path}`, { method: 'POST' })
      expect(answer.status).toBe(405)
      expect(answer.headers.get('allow')).toBe('GET, HEAD')
      const head = await send(`${url}${path}`, { method: 'HEAD' })
      expect(head.status).toBe(200)
      expect(head.text).toBe('')
    }
  })

  it('are not in the metadata', async () => {
    const { url } = await startServer({ clients: CLIENTS, issuer: undefined })
    const metadata = await send(`${url}/.well-known/oauth-authorization-server`)
    expect(metadata.text).not.toMatch(/healthz|readyz/)
    const [server] = await startFleet(1, { store: sharedStore(testClock()) })
    expect(JSON.stringify(server!.metadata)).not.toMatch(/healthz|readyz/)
    expect(server!.issuer).toBe(ISSUER)
  })
})
