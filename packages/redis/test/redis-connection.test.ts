/**
 * The connection every Redis store shares, as its owner sees it through any store: a store may be
 * closed at any moment, even while its first connection is still being made, without leaving a
 * rejection behind that would end a process running with Node's default `--unhandled-rejections`.
 */
import {
  redisDpopReplayStore,
  redisIntrospectionCache,
  redisServerStore,
  redisTokenStore,
} from '@oauth-m2m/redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { useRedisServer } from './support/redis-suite.js'

const redis = useRedisServer()
const unhandled: unknown[] = []
const onUnhandled = (reason: unknown) => unhandled.push(reason)

beforeAll(() => {
  process.on('unhandledRejection', onUnhandled)
})

afterAll(() => {
  process.off('unhandledRejection', onUnhandled)
})

/** Lets the socket connect and node-redis start its handshake (HELLO, CLIENT SETINFO). */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve))

/** Long enough for a rejection left unhandled in the loop to be reported. */
const settle = () => new Promise<void>((resolve) => setTimeout(resolve, 200))

describe.each([
  ['redisTokenStore', (url: string) => redisTokenStore({ url })],
  ['redisServerStore', (url: string) => redisServerStore({ url })],
  ['redisDpopReplayStore', (url: string) => redisDpopReplayStore({ url })],
  ['redisIntrospectionCache', (url: string) => redisIntrospectionCache({ url })],
])('%s closed while it connects', (_name, makeStore) => {
  it('leaves no unhandled rejection, at any point of the first connection', async () => {
    unhandled.length = 0
    // Closed at once, after the socket opened, and at points through the handshake.
    for (let round = 0; round < 30; round++) {
      const store = makeStore(redis.url)
      for (let turn = 0; turn < round % 5; turn++) await nextTurn()
      await store.close()
    }
    await settle()
    expect(unhandled).toEqual([])
  })
})
