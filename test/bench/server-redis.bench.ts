/**
 * Server bench on a shared store (issue 14): server CPU per token with `redisServerStore` beside
 * the default MemoryServerStore, in the same run, for three kinds of token request:
 *
 * - an ES256 JWT for a `client_secret_basic` client: the hot path, which makes no store round trip
 *   at all (the figure should match the memory store's);
 * - an opaque token for the same client: one write per token (its claims under its hash);
 * - an ES256 JWT for a `private_key_jwt` client: one insert-if-absent per token (the assertion's
 *   `jti`, refused if replayed).
 *
 * Each server runs in its own child process (`server-fixtures/oauth-m2m-store.ts`), its CPU read
 * from inside it; the Redis fixtures talk to one redis-server started here on a loopback port (its
 * own CPU is not counted: it is what a deployment runs anyway). Load: autocannon, 16 connections;
 * the basic-client requests for `BENCH_DURATION_SEC` (default 10) seconds per server, the
 * assertion requests `BENCH_ASSERTIONS` (default 4 000) per slice, each with a fresh assertion
 * signed before the slice (signing is the load generator's work, not the server's). Three slices
 * per server, interleaved, after a warm-up. Any non-2xx answer fails the bench.
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto'
import { encodeBasicCredentials } from '@oauth-m2m/core/internal'
import autocannon from 'autocannon'
import { type JWK, SignJWT } from 'jose'
import { request } from 'undici'
import { startRedisServer } from '../../packages/redis/test/support/redis-server.js'
import type { BenchRow } from './harness.js'
import { assertAllSucceeded, type Fixture, killAll, startFixture } from './server.bench.js'
import { CLIENT_ID, CLIENT_SECRET, REQUESTED_SCOPE, RESOURCE } from './server-fixtures/bench-client.js'
import {
  ASSERTION_CLIENT_ID,
  ASSERTION_JWK_ENV,
  REDIS_URL_ENV,
  STORE_ENV,
  TOKEN_FORMAT_ENV,
} from './server-fixtures/bench-store-env.js'

const CONNECTIONS = 16
const DURATION_SEC = positiveNumber(process.env.BENCH_DURATION_SEC, 10)
const WARMUP_SEC = Math.min(3, Math.max(1, Math.round(DURATION_SEC / 3)))
const ASSERTIONS_PER_SLICE = Math.round(positiveNumber(process.env.BENCH_ASSERTIONS, 4000))
const ROUNDS = 3

function positiveNumber(text: string | undefined, fallback: number): number {
  const value = Number(text)
  return text !== undefined && Number.isFinite(value) && value > 0 ? value : fallback
}

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString()

const basicRequest = {
  method: 'POST' as const,
  headers: {
    authorization: encodeBasicCredentials(CLIENT_ID, CLIENT_SECRET),
    'content-type': 'application/x-www-form-urlencoded',
  },
  body: form({ grant_type: 'client_credentials', scope: REQUESTED_SCOPE, resource: RESOURCE }),
}

/** The `private_key_jwt` client's key pair: the fixtures get the public half. */
const assertionKeys = generateKeyPairSync('ec', { namedCurve: 'P-256' })
const assertionJwk = {
  ...(assertionKeys.publicKey.export({ format: 'jwk' }) as JWK),
  kid: 'bench-assertion',
  alg: 'ES256',
  use: 'sig',
}

/** `count` fresh client assertions for the server at `issuer`, each with its own `jti`. */
async function signAssertions(issuer: string, count: number): Promise<string[]> {
  const now = Math.floor(Date.now() / 1000)
  const assertions: string[] = []
  for (let i = 0; i < count; i++) {
    assertions.push(
      await new SignJWT({})
        .setProtectedHeader({ alg: 'ES256', kid: 'bench-assertion', typ: 'client-authentication+jwt' })
        .setIssuer(ASSERTION_CLIENT_ID)
        .setSubject(ASSERTION_CLIENT_ID)
        .setAudience(issuer)
        .setJti(randomUUID())
        .setIssuedAt(now)
        .setExpirationTime(now + 300)
        .sign(assertionKeys.privateKey),
    )
  }
  return assertions
}

function assertionForm(assertion: string): string {
  return form({
    grant_type: 'client_credentials',
    scope: REQUESTED_SCOPE,
    resource: RESOURCE,
    client_id: ASSERTION_CLIENT_ID,
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: assertion,
  })
}

/** A kind of token request, and how to load a fixture with it. */
interface Scenario {
  name: string
  tokenFormat: 'jwt' | 'opaque'
  /** A warm-up (`warmup: true`) or measured slice. */
  load(url: string, warmup: boolean): Promise<autocannon.Result>
  /** One request, checked: a token of the kind the scenario claims to measure. */
  check(url: string): Promise<void>
}

function basicLoad(url: string, warmup: boolean): Promise<autocannon.Result> {
  return autocannon({
    url: `${url}/token`,
    connections: CONNECTIONS,
    duration: warmup ? WARMUP_SEC : DURATION_SEC / ROUNDS,
    ...basicRequest,
  })
}

async function assertionLoad(url: string, warmup: boolean): Promise<autocannon.Result> {
  const count = warmup ? Math.ceil(ASSERTIONS_PER_SLICE / 4) : ASSERTIONS_PER_SLICE
  const assertions = await signAssertions(url, count)
  let next = 0
  return autocannon({
    url: `${url}/token`,
    connections: CONNECTIONS,
    amount: count,
    requests: [
      {
        method: 'POST',
        path: '/token',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        setupRequest: (req) => ({ ...req, body: assertionForm(assertions[next++] as string) }),
      },
    ],
  })
}

async function tokenOf(
  url: string,
  init: { headers: Record<string, string>; body: string },
): Promise<string> {
  const response = await request(`${url}/token`, { method: 'POST', ...init })
  const text = await response.body.text()
  const token = (JSON.parse(text) as { access_token?: unknown }).access_token
  if (response.statusCode !== 200 || typeof token !== 'string') {
    throw new Error(`POST /token answered ${response.statusCode}: ${text.slice(0, 300)}`)
  }
  return token
}

const isJwt = (token: string) => token.split('.').length === 3

const scenarios: Scenario[] = [
  {
    name: 'JWT, client_secret_basic',
    tokenFormat: 'jwt',
    load: basicLoad,
    async check(url) {
      if (!isJwt(await tokenOf(url, basicRequest))) throw new Error('expected a JWT')
    },
  },
  {
    name: 'opaque, client_secret_basic',
    tokenFormat: 'opaque',
    load: basicLoad,
    async check(url) {
      if (isJwt(await tokenOf(url, basicRequest))) throw new Error('expected an opaque token')
    },
  },
  {
    name: 'JWT, private_key_jwt',
    tokenFormat: 'jwt',
    load: assertionLoad,
    async check(url) {
      const [assertion] = await signAssertions(url, 1)
      const init = {
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: assertionForm(assertion!),
      }
      if (!isJwt(await tokenOf(url, init))) throw new Error('expected a JWT')
      const replay = await request(`${url}/token`, { method: 'POST', ...init })
      await replay.body.dump()
      if (replay.statusCode !== 401) throw new Error(`a replayed assertion answered ${replay.statusCode}`)
    },
  },
]

interface Contender {
  scenario: Scenario
  store: 'memory' | 'redis'
  fixture: Fixture
  cpuMicros: number
  answered: number
  seconds: number
}

/** Runs the bench and returns its rows. */
export async function run(): Promise<BenchRow[]> {
  process.once('exit', killAll)
  const redis = await startRedisServer()
  const contenders: Contender[] = []
  try {
    for (const scenario of scenarios) {
      for (const store of ['memory', 'redis'] as const) {
        const fixture = await startFixture(`${store}: ${scenario.name}`, 'oauth-m2m-store.ts', [], {
          [STORE_ENV]: store,
          [REDIS_URL_ENV]: redis.url,
          [TOKEN_FORMAT_ENV]: scenario.tokenFormat,
          [ASSERTION_JWK_ENV]: JSON.stringify(assertionJwk),
        })
        contenders.push({ scenario, store, fixture, cpuMicros: 0, answered: 0, seconds: 0 })
        await scenario.check(fixture.url)
      }
    }
    for (const contender of contenders) {
      console.error(`  ${contender.fixture.name}: warm-up`)
      assertAllSucceeded(contender.fixture.name, await contender.scenario.load(contender.fixture.url, true))
    }
    for (let round = 1; round <= ROUNDS; round++) {
      console.error(`  round ${round}/${ROUNDS}`)
      for (const contender of contenders) {
        const before = await contender.fixture.cpuMicros()
        const result = await contender.scenario.load(contender.fixture.url, false)
        const after = await contender.fixture.cpuMicros()
        assertAllSucceeded(contender.fixture.name, result)
        contender.cpuMicros += after - before
        contender.answered += result['2xx']
        contender.seconds += result.duration
      }
    }
  } finally {
    await Promise.all(contenders.map(({ fixture }) => fixture.stop()))
    await redis.kill()
  }

  const rows: BenchRow[] = []
  for (const scenario of scenarios) {
    const [memory, redis] = (['memory', 'redis'] as const).map(
      (store) => contenders.find((c) => c.scenario === scenario && c.store === store) as Contender,
    ) as [Contender, Contender]
    const cpu = (c: Contender) => c.cpuMicros / c.answered
    const rate = (c: Contender) => c.answered / c.seconds
    rows.push(
      {
        group: 'server (store)',
        name: `server CPU per token on Redis, ${scenario.name}`,
        value: cpu(redis),
        unit: 'µs CPU/req',
        baseline: { name: 'memory store', value: cpu(memory) },
        higherIsBetter: false,
      },
      {
        group: 'server (store)',
        name: `/token on Redis, ${scenario.name}`,
        value: rate(redis),
        unit: 'req/s',
        baseline: { name: 'memory store', value: rate(memory) },
        higherIsBetter: true,
      },
    )
  }
  return rows
}
