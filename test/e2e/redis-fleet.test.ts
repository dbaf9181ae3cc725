/**
 * A fleet of 8 client processes sharing `redisTokenStore`, 100 concurrent callers each, against
 * the reference server on a loopback port: one token request per key for the whole fleet at a cold
 * start and again at refresh time, counted at the server; with Redis killed, each process still
 * gets its token (one request each).
 */
import { type StartedAuthorizationServer, startAuthorizationServer } from '@oauth-m2m/testing'
import { afterAll, beforeAll, expect, it } from 'vitest'
import {
  type RedisServer,
  startRedisServer,
  stopRedisServer,
} from '../../packages/redis/test/support/redis-server.js'
import { type BurstResult, type ClientFleet, startClientFleet } from './support/client-fleet.js'

const PROCESSES = 8
const CALLERS = 100
const SECRET = 'fleet-secret-0123456789abcdef'
/** Short-lived tokens, so that the refresh comes within the test: fresh for 6–7 s, stale until 9 s. */
const LIFETIME_SEC = 10

let redis: RedisServer
let as: StartedAuthorizationServer
let fleet: ClientFleet | undefined

beforeAll(async () => {
  redis = await startRedisServer()
  as = await startAuthorizationServer({
    defaultClient: { client_id: 'fleet', client_secret: SECRET, scope: 'read write' },
    accessTokenLifetimeSec: LIFETIME_SEC,
  })
  fleet = await startClientFleet(PROCESSES, {
    tokenEndpoint: as.tokenEndpoint,
    clientId: 'fleet',
    clientSecret: SECRET,
    scope: 'read',
    redisUrl: redis.url,
    keyPrefix: 'fleet-e2e:',
    // refreshAt = issuedAt + 7 s − jitter (≤ 1 s); expired from issuedAt + 9 s.
    refreshMarginSec: 3,
    expiryMarginSec: 1,
  })
}, 180_000)

afterAll(async () => {
  await fleet?.close()
  await as?.close()
  await stopRedisServer(redis)
})

const tokenRequests = () => as.takeRequests({ endpoint: 'token' })

/** The one token every caller of every process got (failing when they got several, or errors). */
function oneToken(results: BurstResult[]): string {
  expect(results.flatMap((r) => r.failures)).toEqual([])
  const tokens = new Set(results.flatMap((r) => r.tokens))
  expect(tokens.size).toBe(1)
  return [...tokens][0]!
}

it('makes one token request per key for the fleet at a cold start and at refresh time; each process fetches its own with Redis killed', async () => {
  const members = fleet!
  tokenRequests()

  // Cold start: 8 processes × 100 callers at once.
  const startedAt = Date.now()
  const first = oneToken(await members.burst(CALLERS))
  expect(tokenRequests()).toHaveLength(1)

  // Refresh time: every process is past its jittered refreshAt (≤ 7 s), and the token not yet
  // expired (9 s) unless the machine is slow — then the callers wait, and still one request.
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, startedAt + 7_300 - Date.now())))
  await members.burst(CALLERS)
  let refreshed: BurstResult[] = []
  await expect
    .poll(
      async () => {
        refreshed = await members.burst(CALLERS)
        return refreshed.every((r) => r.tokens.length === 1 && r.tokens[0] !== first)
      },
      { timeout: 15_000, interval: 200 },
    )
    .toBe(true)
  const second = oneToken(refreshed)
  expect(second).not.toBe(first)
  expect(tokenRequests().map((r) => r.status)).toEqual([200])

  // Redis killed: a new key (another scope) for every process — each fetches its own token.
  await redis.kill()
  const down = await members.burst(CALLERS, 'write')
  expect(down.flatMap((r) => r.failures)).toEqual([])
  expect(down.every((r) => r.tokens.length === 1)).toBe(true)
  expect(tokenRequests()).toHaveLength(PROCESSES)

  expect(await members.unhandledRejections()).toEqual([])
}, 90_000)
