/**
 * A real `redis-server` for tests: on 127.0.0.1, on a free port, without persistence
 * (`--save '' --appendonly no`; `persistent: true` for an append-only file), in a temporary directory. `stop()` and `start()` take it away and
 * bring it back on the same port (an outage); `kill()` ends it at once (a crash).
 *
 * Top-level e2e tests import this file by relative path.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createConnection, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** What the test setup tells when the binary is missing. */
export const INSTALL_REDIS = 'redis-server is missing: sudo apt-get install -y redis-server'

/** A running (or stopped) redis-server. */
export interface RedisServer {
  /** `redis://127.0.0.1:<port>` */
  readonly url: string
  readonly port: number
  /** Stops it (SIGTERM) and waits for the process to end. The port stays this server's. */
  stop(): Promise<void>
  /** Starts it again on the same port, empty, and waits until it answers PING. */
  start(): Promise<void>
  /** Ends it at once (SIGKILL) and waits for the process to end. */
  kill(): Promise<void>
}

/** How long a start may take before the test setup gives up. */
const START_TIMEOUT_MS = 10_000

/** The servers' temporary directories, removed when the test process exits. */
const directories: string[] = []
process.once('exit', () => {
  for (const dir of directories) rmSync(dir, { recursive: true, force: true })
})

/** Whether `redis-server` can be run here. */
export function redisServerAvailable(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0
}

/** A port the system has just handed out and released: free, barring a race no test here runs. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => {
        if (address !== null && typeof address === 'object') resolve(address.port)
        else reject(new Error('no port'))
      })
    })
  })
}

/** Resolves with whether the server on `port` answered PING with PONG. */
function pings(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port })
    let reply = ''
    const done = (answer: boolean) => {
      socket.destroy()
      resolve(answer)
    }
    socket.setTimeout(500, () => done(false))
    socket.on('error', () => done(false))
    socket.on('connect', () => socket.write('PING\r\n'))
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1')
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'))
    })
  })
}

/** Waits for a child process to end (at once if it has). */
function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => child.once('exit', () => resolve()))
}

/** Options of {@link startRedisServer}. */
export interface RedisServerOptions {
  /**
   * Keep the data across `stop()` and `start()` (an append-only file written on every command), as
   * a production Redis would; `kill()` keeps what was written too. Default `false`: a restarted
   * server is empty.
   */
  persistent?: boolean
}

/**
 * Starts a redis-server on a free loopback port and waits until it answers. Throws with the one
 * install line when the binary is missing.
 */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  if (!redisServerAvailable()) throw new Error(INSTALL_REDIS)
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'oauth-m2m-redis-'))
  directories.push(dir)
  let child: ChildProcess | undefined
  let output = ''

  const start = async () => {
    if (child !== undefined && child.exitCode === null && child.signalCode === null) return
    output = ''
    const server = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        options.persistent === true ? 'yes' : 'no',
        '--appendfsync',
        'always',
        '--dir',
        dir,
        '--daemonize',
        'no',
        '--loglevel',
        'warning',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    child = server
    server.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8')
    })
    server.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8')
    })
    const deadline = Date.now() + START_TIMEOUT_MS
    while (!(await pings(port))) {
      if (server.exitCode !== null || Date.now() > deadline) {
        server.kill('SIGKILL')
        throw new Error(`redis-server did not start on port ${port}:\n${output}`)
      }
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  }

  const end = async (signal: NodeJS.Signals) => {
    const running = child
    if (running === undefined) return
    running.kill(signal)
    await exited(running)
  }

  await start()
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    start,
    stop: () => end('SIGTERM'),
    kill: async () => {
      await end('SIGKILL')
    },
  }
}

/** Stops a server for good (its directory goes when the test process exits); for `afterAll`. */
export async function stopRedisServer(server: RedisServer | undefined): Promise<void> {
  if (server === undefined) return
  await server.kill()
}
