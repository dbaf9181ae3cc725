/**
 * The set-up every Redis test file shares: a redis-server started before its tests, a connection
 * of the test's own to look at what the stores wrote, and the stores the tests made closed before
 * the server stops.
 */
import { createClient } from 'redis'
import { afterAll, beforeAll } from 'vitest'
import { type RedisServer, startRedisServer, stopRedisServer } from './redis-server.js'

/** Something a test made that holds connections. */
interface Closable {
  close(): Promise<void> | void
}

/** What {@link useRedisServer} gives a test file; usable from its tests and hooks on. */
export interface RedisSuite extends Pick<RedisServer, 'url' | 'stop' | 'start'> {
  /** A connection of the test's own, to look at what the stores wrote. */
  readonly raw: ReturnType<typeof createClient>
  /** Closes `closable` after the file's tests, before the server stops; returns it. */
  closeAfterAll<T extends Closable>(closable: T): T
}

/** Registers the file's `beforeAll` and `afterAll` for a redis-server of its own. */
export function useRedisServer(): RedisSuite {
  let server: RedisServer | undefined
  let raw: ReturnType<typeof createClient> | undefined
  const closing: Closable[] = []
  beforeAll(async () => {
    server = await startRedisServer()
    raw = createClient({ url: server.url })
    raw.on('error', () => {})
    await raw.connect()
  })
  afterAll(async () => {
    for (const closable of closing) await closable.close()
    raw?.destroy()
    await stopRedisServer(server)
  })
  const started = <T>(value: T | undefined): T => {
    if (value === undefined)
      throw new Error('the redis-server starts in beforeAll: use it from tests and hooks')
    return value
  }
  return {
    get url() {
      return started(server).url
    },
    get raw() {
      return started(raw)
    },
    stop: () => started(server).stop(),
    start: () => started(server).start(),
    closeAfterAll(closable) {
      closing.push(closable)
      return closable
    },
  }
}
