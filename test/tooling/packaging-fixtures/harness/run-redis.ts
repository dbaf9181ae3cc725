/**
 * The @oauth-m2m/redis quickstart: a server instance on a real redis-server (started here on a free
 * loopback port, without persistence), with a key-encryption key of its own. Reports how many keys
 * the server left in Redis (its signing keys at least), which shows the server used the store.
 */
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { createConnection, createServer } from 'node:net'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error()),
      )
    })
  })
}

/** Sends one command; resolves with the first reply line. */
function ask(port: number, command: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port })
    let reply = ''
    socket.on('error', () => resolve(''))
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

const port = await freePort()
const redis = spawn(
  'redis-server',
  ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
  {
    stdio: 'ignore',
  },
)
try {
  for (let i = 0; (await ask(port, 'PING')) !== '+PONG'; i++) {
    if (i > 200) throw new Error('redis-server did not start')
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  process.env.REDIS_URL = `redis://127.0.0.1:${port}`
  process.env.M2M_KEY_ENCRYPTION_KEY = randomBytes(32).toString('base64url')
  process.env.SERVICE_A_SECRET = 'quickstart-secret-of-service-a'
  const quickstart = process.argv[2]
  if (!quickstart) throw new Error('usage: node run-redis.js <quickstart.js>')
  await import(pathToFileURL(resolve(quickstart)).href)
  const keysInRedis = Number((await ask(port, 'DBSIZE')).slice(1))
  process.stdout.write(`QUICKSTART ${JSON.stringify({ completed: true, keysInRedis })}\n`)
} finally {
  redis.kill('SIGKILL')
}
