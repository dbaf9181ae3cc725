/**
 * Middleware bench (issue 4): throughput of node:http behind `@oauth-m2m/verifier/node` with a
 * valid, already verified (cached) token, beside — in the same run — a bare node:http server
 * answering the same JSON to the same requests. Target: at least 85 % of the bare server.
 *
 * Each server runs in a child process of its own (this file, forked with
 * `OAUTH_M2M_MIDDLEWARE_BENCH_SERVER=bare|middleware`), so the load generator does not share its
 * thread. The middleware child also runs the reference authorization server (idle during the load)
 * to mint the token and serve the JWKS, and uses the real `createVerifier()`. Load: autocannon, 16
 * connections over loopback; the two servers are measured alternately, five times each for
 * `BENCH_DURATION_SEC` (default 3) seconds, and the medians are compared. Server CPU per request
 * (read inside each child) is reported too: it is steadier than throughput on a shared machine.
 * Any non-2xx answer or connection error fails the bench.
 *
 * DPoP (issue 12): a third child serves the same route behind the same middleware with a verifier
 * that takes DPoP-bound tokens (default mode `allowed`, tokens signed with jose, static key set),
 * and is loaded alternately with a cached bearer token and with a cached DPoP-bound token plus a
 * fresh proof per request (signed in the load generator, so a replayed proof would fail the run).
 * The figure is the server CPU per DPoP request beside per Bearer request, same child, same run:
 * what checking a proof (signature, htu, ath, replay record) adds.
 */
import { type ChildProcess, fork } from 'node:child_process'
import { generateKeyPairSync, type KeyObject, randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { accessTokenHash, encodeBasicCredentials, jwkThumbprint } from '@oauth-m2m/core/internal'
import { createAuthorizationServer } from '@oauth-m2m/server'
import { createVerifier } from '@oauth-m2m/verifier'
import { bearerAuth } from '@oauth-m2m/verifier/node'
import autocannon from 'autocannon'
import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import { request } from 'undici'
import { signCompact } from '../../packages/core/test/support/dpop-proofs.js'
import type { BenchRow } from './harness.js'

const SERVER_MODE_ENV = 'OAUTH_M2M_MIDDLEWARE_BENCH_SERVER'
/** The public JWK of the load generator's DPoP key, handed to the dpop child. */
const DPOP_JWK_ENV = 'OAUTH_M2M_MIDDLEWARE_BENCH_DPOP_JWK'
const DPOP_ISSUER = 'https://bench-issuer.example'
const CONNECTIONS = 16
const ROUNDS = 5
const DURATION_SEC = positiveNumber(process.env.BENCH_DURATION_SEC, 3)
const WARMUP_SEC = 1
const START_TIMEOUT_MS = 30_000
const TARGET_RATIO = 0.85
const RESOURCE = 'https://bench-api.example/'
const SCOPE = 'read'
const BODY = '{"ok":true}'

type ServerMode = 'bare' | 'middleware' | 'dpop'
type ChildMessage =
  | { type: 'ready'; url: string; token: string; dpopToken?: string }
  | { type: 'cpu'; micros: number }

function positiveNumber(text: string | undefined, fallback: number): number {
  const value = Number(text)
  return text !== undefined && Number.isFinite(value) && value > 0 ? value : fallback
}

function answer(res: ServerResponse): void {
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': BODY.length })
  res.end(BODY)
}

/** Mints a token for the bench from the reference server and returns a warm middleware handler. */
async function middlewareHandler(): Promise<{
  token: string
  handler: (req: IncomingMessage, res: ServerResponse) => void
}> {
  const authorizationServer = await createAuthorizationServer({
    clients: [{ client_id: 'bench-client', client_secret: 'bench-secret', scope: SCOPE }],
    resources: [{ resource: RESOURCE }],
    accessTokenLifetimeSec: 3600,
  })
  const { url: issuer } = await authorizationServer.listen({ port: 0, host: '127.0.0.1' })
  const response = await request(`${issuer}/token`, {
    method: 'POST',
    headers: {
      authorization: encodeBasicCredentials('bench-client', 'bench-secret'),
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      scope: SCOPE,
      resource: RESOURCE,
    }).toString(),
  })
  const { access_token: token } = (await response.body.json()) as { access_token: string }
  const verifier = createVerifier({ issuer, audience: RESOURCE })
  // The first verification fetches discovery and JWKS and fills the verified-token cache.
  await verifier.verify(token, { requiredScopes: [SCOPE] })
  const auth = bearerAuth({ verifier, requiredScopes: [SCOPE], realm: 'bench' })
  return { token, handler: (req, res) => void auth(req, res, () => answer(res)) }
}

/**
 * The same middleware with a verifier that takes DPoP-bound tokens: a bearer token and a token
 * bound to the load generator's key, both signed here with jose and checked against a static key
 * set (the reference server issues no DPoP-bound tokens yet).
 */
async function dpopHandler(): Promise<{
  token: string
  dpopToken: string
  handler: (req: IncomingMessage, res: ServerResponse) => void
}> {
  const clientJwk = JSON.parse(process.env[DPOP_JWK_ENV] ?? '{}') as Record<string, unknown>
  const { privateKey, publicKey } = await generateKeyPair('ES256')
  const publicJwk = { ...(await exportJWK(publicKey)), kid: 'bench', alg: 'ES256' }
  const mint = (claims: Record<string, unknown>) =>
    new SignJWT({ client_id: 'bench-client', scope: SCOPE, ...claims })
      .setProtectedHeader({ alg: 'ES256', kid: 'bench', typ: 'at+jwt' })
      .setIssuer(DPOP_ISSUER)
      .setAudience(RESOURCE)
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(privateKey)
  const token = await mint({})
  const dpopToken = await mint({ cnf: { jkt: jwkThumbprint(clientJwk) } })
  const verifier = createVerifier({ issuer: DPOP_ISSUER, audience: RESOURCE, jwks: { keys: [publicJwk] } })
  await verifier.verify(token, { requiredScopes: [SCOPE] })
  const auth = bearerAuth({ verifier, requiredScopes: [SCOPE], realm: 'bench' })
  return { token, dpopToken, handler: (req, res) => void auth(req, res, () => answer(res)) }
}

/** Child process: serves one kind of server until the parent goes away. */
async function serve(mode: ServerMode): Promise<void> {
  const { token, dpopToken, handler } =
    mode === 'bare'
      ? {
          token: '',
          dpopToken: undefined,
          handler: (_req: IncomingMessage, res: ServerResponse) => answer(res),
        }
      : mode === 'dpop'
        ? await dpopHandler()
        : { ...(await middlewareHandler()), dpopToken: undefined }
  const server = createServer(handler)
  server.listen(0, '127.0.0.1', () => {
    const { port } = server.address() as AddressInfo
    process.send?.({
      type: 'ready',
      url: `http://127.0.0.1:${port}`,
      token,
      dpopToken,
    } satisfies ChildMessage)
  })
  process.on('message', (message: { type: string }) => {
    if (message.type !== 'cpu') return
    const { user, system } = process.cpuUsage()
    process.send?.({ type: 'cpu', micros: user + system } satisfies ChildMessage)
  })
  process.once('disconnect', () => process.exit(0))
}

const serverMode = process.env[SERVER_MODE_ENV]
if (serverMode === 'bare' || serverMode === 'middleware' || serverMode === 'dpop') await serve(serverMode)

/** A server child process. */
interface Child {
  url: string
  token: string
  /** The DPoP-bound token of the dpop child. */
  dpopToken: string | undefined
  /** CPU time the child has used so far, user + system, in microseconds. */
  cpuMicros(): Promise<number>
  stop(): void
}

function startChild(mode: ServerMode, extraEnv: Record<string, string> = {}): Promise<Child> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, ...extraEnv, [SERVER_MODE_ENV]: mode },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  })
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000)
  })
  const stop = () => {
    if (child.connected) child.disconnect()
    setTimeout(() => child.kill('SIGKILL'), 2000).unref()
  }
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stop()
      reject(new Error(`the ${mode} server did not start within ${START_TIMEOUT_MS} ms:\n${stderr}`))
    }, START_TIMEOUT_MS)
    const cpuMicros = () =>
      new Promise<number>((resolveCpu) => {
        const onMessage = (message: ChildMessage) => {
          if (message.type !== 'cpu') return
          child.off('message', onMessage)
          resolveCpu(message.micros)
        }
        child.on('message', onMessage)
        child.send({ type: 'cpu' })
      })
    child.once('message', (message: ChildMessage) => {
      clearTimeout(timer)
      if (message.type === 'ready') {
        resolve({ url: message.url, token: message.token, dpopToken: message.dpopToken, cpuMicros, stop })
      }
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`the ${mode} server exited (code ${code}) before it was ready:\n${stderr}`))
    })
  })
}

async function statusOf(url: string, headers: Record<string, string>): Promise<number> {
  const response = await request(url, { headers })
  await response.body.dump()
  return response.statusCode
}

/** Throughput and server CPU per request of one load phase. */
interface Measured {
  reqPerSec: number
  cpuMicrosPerReq: number
}

async function load(
  child: Child,
  headers: Record<string, string>,
  durationSec: number,
  perRequestHeaders?: () => Record<string, string>,
): Promise<Measured> {
  const url = `${child.url}/things`
  const cpuBefore = await child.cpuMicros()
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: durationSec,
    headers,
    // Called for every request: each DPoP request carries a proof of its own.
    ...(perRequestHeaders && {
      requests: [
        { setupRequest: (req) => ({ ...req, headers: { ...req.headers, ...perRequestHeaders() } }) },
      ],
    }),
  })
  const cpuAfter = await child.cpuMicros()
  if (result.non2xx > 0 || result.errors > 0 || result.timeouts > 0 || result['2xx'] === 0) {
    throw new Error(
      `${url}: ${result.non2xx} non-2xx answers, ${result.errors} errors, ${result.timeouts} timeouts, ` +
        `${result['2xx']} 2xx during the load phase`,
    )
  }
  return {
    reqPerSec: result.requests.average,
    cpuMicrosPerReq: (cpuAfter - cpuBefore) / result.requests.total,
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]!
}

/** Bench entry point (see `run.ts`). */
export async function run(): Promise<BenchRow[]> {
  const rows: BenchRow[] = []
  const bare = await startChild('bare')
  try {
    const guarded = await startChild('middleware')
    try {
      rows.push(...(await compare(bare, guarded)))
    } finally {
      guarded.stop()
    }
  } finally {
    bare.stop()
  }
  rows.push(...(await compareDpop()))
  return rows
}

/** The load generator's DPoP key, and fresh proofs by it, signed with node:crypto. */
function dpopClient(): {
  publicJwk: Record<string, unknown>
  proofsFor(url: string, token: string): () => string
} {
  const { privateKey, publicKey }: { privateKey: KeyObject; publicKey: KeyObject } = generateKeyPairSync(
    'ec',
    {
      namedCurve: 'P-256',
    },
  )
  const publicJwk = publicKey.export({ format: 'jwk' }) as Record<string, unknown>
  const header = { typ: 'dpop+jwt', alg: 'ES256', jwk: publicJwk }
  return {
    publicJwk,
    proofsFor(url, token) {
      const ath = accessTokenHash(token)
      return () =>
        signCompact(
          header,
          { jti: randomUUID(), htm: 'GET', htu: url, iat: Math.floor(Date.now() / 1000), ath },
          'ES256',
          privateKey,
        )
    },
  }
}

async function compareDpop(): Promise<BenchRow[]> {
  const client = dpopClient()
  const child = await startChild('dpop', { [DPOP_JWK_ENV]: JSON.stringify(client.publicJwk) })
  try {
    const url = `${child.url}/things`
    const nextProof = client.proofsFor(url, child.dpopToken!)
    const bearer = { authorization: `Bearer ${child.token}` }
    const dpop = { authorization: `DPoP ${child.dpopToken}` }
    const perRequest = () => ({ dpop: nextProof() })
    // Prove the proof is checked: a fresh one passes (and fills the token cache), the same one
    // again is a replay, none is refused.
    const proof = nextProof()
    const first = await statusOf(url, { ...dpop, dpop: proof })
    const replay = await statusOf(url, { ...dpop, dpop: proof })
    const none = await statusOf(url, dpop)
    const plain = await statusOf(url, bearer)
    if (first !== 200 || replay !== 401 || none !== 401 || plain !== 200) {
      throw new Error(
        `the DPoP server answered ${first}, ${replay} to a replay, ${none} without a proof, ${plain} to Bearer`,
      )
    }
    await load(child, bearer, WARMUP_SEC)
    await load(child, dpop, WARMUP_SEC, perRequest)
    const bearerRuns: Measured[] = []
    const dpopRuns: Measured[] = []
    for (let round = 0; round < ROUNDS; round++) {
      bearerRuns.push(await load(child, bearer, DURATION_SEC))
      dpopRuns.push(await load(child, dpop, DURATION_SEC, perRequest))
    }
    const cpu = (runs: Measured[]) => median(runs.map((r) => r.cpuMicrosPerReq))
    const rate = (runs: Measured[]) => median(runs.map((r) => r.reqPerSec))
    return [
      {
        group: 'middleware',
        name: 'server CPU, verifier/node, DPoP-bound cached token + fresh ES256 proof',
        value: cpu(dpopRuns),
        unit: 'µs CPU/req',
        baseline: { name: 'same server, cached bearer token', value: cpu(bearerRuns) },
        higherIsBetter: false,
      },
      {
        // The load generator signs a proof per request on the same two cores: read with care.
        group: 'middleware',
        name: 'node:http + verifier/node, DPoP requests (proofs signed by the load generator)',
        value: rate(dpopRuns),
        unit: 'req/s',
        baseline: { name: 'same server, bearer requests', value: rate(bearerRuns) },
        higherIsBetter: true,
      },
    ]
  } finally {
    child.stop()
  }
}
async function compare(bare: Child, guarded: Child): Promise<BenchRow[]> {
  const headers = { authorization: `Bearer ${guarded.token}` }
  // Prove the middleware is in the path: without the token it refuses, with it it answers.
  const refused = await statusOf(`${guarded.url}/things`, {})
  const accepted = await statusOf(`${guarded.url}/things`, headers)
  if (refused !== 401 || accepted !== 200) {
    throw new Error(`the middleware server answered ${refused} without and ${accepted} with the token`)
  }
  await load(bare, headers, WARMUP_SEC)
  await load(guarded, headers, WARMUP_SEC)
  const bareRuns: Measured[] = []
  const guardedRuns: Measured[] = []
  for (let round = 0; round < ROUNDS; round++) {
    bareRuns.push(await load(bare, headers, DURATION_SEC))
    guardedRuns.push(await load(guarded, headers, DURATION_SEC))
  }
  const rate = (runs: Measured[]) => median(runs.map((r) => r.reqPerSec))
  const cpu = (runs: Measured[]) => median(runs.map((r) => r.cpuMicrosPerReq))
  return [
    {
      group: 'middleware',
      name: 'node:http + verifier/node, cached valid token',
      value: rate(guardedRuns),
      unit: 'req/s',
      baseline: { name: 'bare node:http', value: rate(bareRuns) },
      higherIsBetter: true,
      target: `≥ ${TARGET_RATIO * 100} % of bare`,
      met: rate(guardedRuns) >= TARGET_RATIO * rate(bareRuns),
    },
    {
      // CPU per request is steadier than throughput on a shared machine; it shows what the
      // middleware itself costs.
      group: 'middleware',
      name: 'server CPU, node:http + verifier/node',
      value: cpu(guardedRuns),
      unit: 'µs CPU/req',
      baseline: { name: 'bare node:http', value: cpu(bareRuns) },
      higherIsBetter: false,
    },
  ]
}
