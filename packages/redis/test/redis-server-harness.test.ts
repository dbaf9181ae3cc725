import { createConnection } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RedisServer, startRedisServer, stopRedisServer } from './support/redis-server.js'

/** The first line Redis answers to `command`, or the connection error's code. */
function ask(port: number, command: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port })
    let reply = ''
    socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'))
    socket.on('connect', () => socket.write(`${command}\r\n`))
    socket.on('data', (chunk) => {
      reply += chunk.toString('utf8')
      if (reply.includes('\r\n')) {
        socket.destroy()
        resolve(reply.slice(0, reply.indexOf('\r\n')))
      }
    })
  })
}

describe('the redis-server test harness', () => {
  let server: RedisServer
  beforeAll(async () => {
    server = await startRedisServer()
  })
  afterAll(() => stopRedisServer(server))

  it('runs a redis-server without persistence on a loopback port', async () => {
    expect(server.url).toBe(`redis://127.0.0.1:${server.port}`)
    expect(await ask(server.port, 'PING')).toBe('+PONG')
    expect(await ask(server.port, 'CONFIG GET save')).toBe('*2')
  })

  it('stops, starts again empty on the same port, and is killed', async () => {
    expect(await ask(server.port, 'SET k v')).toBe('+OK')
    await server.stop()
    expect(await ask(server.port, 'PING')).toBe('ECONNREFUSED')
    await server.start()
    expect(await ask(server.port, 'EXISTS k')).toBe(':0')
    await server.kill()
    expect(await ask(server.port, 'PING')).toBe('ECONNREFUSED')
    await server.start()
    expect(await ask(server.port, 'PING')).toBe('+PONG')
  })
})

describe('a persistent redis-server of the harness', () => {
  it('keeps its data across stop and start', async () => {
    const server = await startRedisServer({ persistent: true })
    try {
      expect(await ask(server.port, 'SET k v')).toBe('+OK')
      await server.stop()
      await server.start()
      expect(await ask(server.port, 'EXISTS k')).toBe(':1')
    } finally {
      await stopRedisServer(server)
    }
  })
})
