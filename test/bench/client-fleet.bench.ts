/**
 * Client fleet bench (issue 14): token requests per refresh window of a fleet of 8 client
 * processes with `redisTokenStore` beside the same fleet without a shared store (each process on
 * its own), same run, same reference server on a loopback port. A count, not a time: the figure
 * is what the authorization server sees.
 *
 * Each fleet takes a cold start (every process asks at once), then a steady load — every process
 * asks for its token (`CALLERS` concurrent calls) every `TICK_MS` — for `LOAD_SEC`, through the
 * background refreshes at each process's jittered refresh time. A refresh window is one token
 * generation: the figure is the token requests of the load divided by the new tokens each process
 * got during it (on average). `BENCH_FLEET_LOAD_SEC` (default 20) sets the load's length.
 */
import { startAuthorizationServer } from '@oauth-m2m/testing'
import { startRedisServer } from '../../packages/redis/test/support/redis-server.js'
import { type ClientFleet, startClientFleet } from '../e2e/support/client-fleet.js'
import type { FleetMemberConfig } from '../e2e/support/fleet-member.js'
import type { BenchRow } from './harness.js'

const PROCESSES = 8
const CALLERS = 10
const LOAD_SEC = Number(process.env.BENCH_FLEET_LOAD_SEC ?? 20)
/** Short-lived tokens: refreshAt = issuedAt + 4 s − jitter (≤ 0.5 s), expired from 4.5 s. */
const LIFETIME_SEC = 5
const TICK_MS = 200
const SECRET = 'fleet-bench-secret-0123456789'

interface FleetFigures {
  coldStart: number
  /** Token requests during the load, per refresh window. */
  perWindow: number
  /** Refresh windows: new tokens each process got during the load, on average. */
  windows: number
  failures: number
}

async function measure(
  fleetOf: (config: FleetMemberConfig) => Promise<ClientFleet>,
  config: FleetMemberConfig,
  tokenRequests: () => number,
): Promise<FleetFigures> {
  const fleet = await fleetOf(config)
  try {
    tokenRequests()
    const cold = await fleet.burst(CALLERS)
    let failures = cold.flatMap((r) => r.failures).length
    const coldStart = tokenRequests()
    // What each process held, to count the refresh windows it went through: a window is one token
    // generation, whoever fetched it.
    const held = cold.map((r) => new Set(r.tokens))
    const coldTokens = cold.map((r) => r.tokens.length)
    const end = Date.now() + LOAD_SEC * 1000
    while (Date.now() < end) {
      const tick = new Promise((resolve) => setTimeout(resolve, TICK_MS))
      const results = await fleet.burst(CALLERS)
      results.forEach((r, i) => {
        for (const token of r.tokens) held[i]!.add(token)
      })
      failures += results.flatMap((r) => r.failures).length
      await tick
    }
    const requests = tokenRequests()
    const windows = held.reduce((sum, tokens, i) => sum + tokens.size - coldTokens[i]!, 0) / held.length
    // No new token at all (a load shorter than a refresh): every request counts against one window.
    return { coldStart, perWindow: requests / Math.max(1, windows), windows, failures }
  } finally {
    await fleet.close()
  }
}

export async function run(): Promise<BenchRow[]> {
  const redis = await startRedisServer()
  const as = await startAuthorizationServer({
    defaultClient: { client_id: 'fleet', client_secret: SECRET, scope: 'read' },
    accessTokenLifetimeSec: LIFETIME_SEC,
  })
  const tokenRequests = () => as.takeRequests({ endpoint: 'token' }).length
  const base: FleetMemberConfig = {
    tokenEndpoint: as.tokenEndpoint,
    clientId: 'fleet',
    clientSecret: SECRET,
    scope: 'read',
    refreshMarginSec: 1,
    expiryMarginSec: 0.5,
  }
  const fleetOf = (config: FleetMemberConfig) => startClientFleet(PROCESSES, config)
  try {
    const shared = await measure(
      fleetOf,
      { ...base, redisUrl: redis.url, keyPrefix: 'fleet-bench:' },
      tokenRequests,
    )
    const alone = await measure(fleetOf, base, tokenRequests)
    const label = `${PROCESSES} processes × ${CALLERS} callers`
    return [
      {
        group: 'client fleet',
        name: `token requests at a cold start, ${label}, redisTokenStore`,
        value: shared.coldStart,
        unit: 'requests',
        baseline: { name: 'no shared store', value: alone.coldStart },
        higherIsBetter: false,
        target: '1',
        met: shared.coldStart === 1,
      },
      {
        group: 'client fleet',
        name: `token requests per refresh window (${shared.windows.toFixed(1)} windows of a ${LIFETIME_SEC} s token), ${label}, redisTokenStore`,
        value: shared.perWindow,
        unit: 'requests',
        baseline: { name: 'no shared store', value: alone.perWindow },
        higherIsBetter: false,
        target: `1 (vs ${PROCESSES})`,
        met: shared.perWindow <= 1 && shared.failures === 0 && alone.failures === 0,
      },
    ]
  } finally {
    await as.close()
    await redis.kill()
  }
}
