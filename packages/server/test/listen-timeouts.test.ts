/**
 * The time-outs `listen()` gives its node:http server: the documented defaults, and an idle
 * kept-alive connection closed after keepAliveTimeoutMs.
 */
import type * as http from 'node:http'
import { connect } from 'node:net'
import { describe, expect, it, vi } from 'vitest'
import { startServer } from './test-server.js'

const created: http.Server[] = []

vi.mock('node:http', async (importOriginal) => {
  const original = await importOriginal<typeof http>()
  const createServer = (...args: Parameters<typeof original.createServer>) => {
    const server = original.createServer(...args)
    created.push(server)
    return server
  }
  return { ...original, default: { ...original, createServer }, createServer }
})

const CLIENTS = [{ client_id: 'svc', client_secret: 'svc-secret' }]

describe('listen() time-outs', () => {
  it('applies the defaults: requestTimeoutMs 10 s, headersTimeoutMs 5 s, keepAliveTimeoutMs 5 s', async () => {
    created.length = 0
    await startServer({ clients: CLIENTS })
    expect(created).toHaveLength(1)
    const server = created[0]!
    expect(server.requestTimeout).toBe(10_000)
    expect(server.headersTimeout).toBe(5000)
    expect(server.keepAliveTimeout).toBe(5000)
  })

  it('applies configured values', async () => {
    created.length = 0
    await startServer({
      clients: CLIENTS,
      requestTimeoutMs: 7000,
      headersTimeoutMs: 3000,
      keepAliveTimeoutMs: 1500,
    })
    const server = created[0]!
    expect([server.requestTimeout, server.headersTimeout, server.keepAliveTimeout]).toEqual([
      7000, 3000, 1500,
    ])
  })

  it('closes an idle kept-alive connection after keepAliveTimeoutMs', async () => {
    // Node's own default is 5 s: the guard below would catch a setting that was not applied.
    const { url } = await startServer({ clients: CLIENTS, keepAliveTimeoutMs: 1000 })
    const { port } = new URL(url)
    const outcome = await new Promise<{ answer: string; closedByServer: boolean }>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1')
      let answer = ''
      const guard = setTimeout(() => {
        socket.destroy()
        resolve({ answer, closedByServer: false })
      }, 4500)
      socket.setEncoding('utf8')
      socket.on('data', (chunk: string) => {
        answer += chunk
      })
      socket.on('error', reject)
      socket.on('end', () => {
        clearTimeout(guard)
        socket.destroy()
        resolve({ answer, closedByServer: true })
      })
      socket.write('GET /jwks HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')
    })
    expect(outcome.answer).toMatch(/^HTTP\/1\.1 200 /)
    // The answer kept the connection open and said for how long (in whole seconds).
    expect(outcome.answer).toMatch(/\r\nkeep-alive: timeout=1\r\n/i)
    expect(outcome.closedByServer).toBe(true)
  })
})
