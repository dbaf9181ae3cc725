/**
 * Start-up bench (issue 11): how long a test waits, from the start of a fresh `node` process, for
 * a listening test authorization server and for its first token, with `startAuthorizationServer()`
 * of @oauth-m2m/testing beside oauth2-mock-server 8 (the newest major that runs on Node 20).
 *
 * Each figure is one fixture script (`startup-fixtures/`) run in a new plain `node` process, as a
 * user's test would load it: the built `dist` of @oauth-m2m/testing, no loader, no source
 * condition (the fixture reports what its import resolved to and the bench checks it). The
 * fixture prints `performance.now()` (milliseconds since `performance.timeOrigin`, which Node
 * sets when the process starts) at script entry, after the dynamic import of the package, once
 * the server listens on 127.0.0.1 port 0, and once it holds its first access token.
 *
 * The first token is taken two ways, each in its own process so that neither warms the other:
 * `api` (the library's own call: `as.mintToken()`; `server.issuer.buildToken()`), and `http`
 * (a client_credentials request over node:http to the token endpoint).
 *
 * oauth2-mock-server runs as its README's quick start has it, with an RS256 key; it runs a second
 * time with an ES256 key, the kind @oauth-m2m/testing generates, so the table shows how much of
 * the difference is RSA key generation.
 *
 * The contenders alternate within each round (and which goes first alternates between rounds) so
 * that load from elsewhere on this shared machine spreads over all of them; one unmeasured round
 * warms the file-system cache first. `BENCH_STARTUP_RUNS` (default 11) bounds the measured rounds
 * and `BENCH_STARTUP_BUDGET_SEC` (default 120) their total time; a fixture that fails, prints
 * something else or takes more than 20 s fails the bench. Figures are medians, in milliseconds.
 */
import { spawn } from 'node:child_process'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { BenchRow } from './harness.js'

const here = dirname(fileURLToPath(import.meta.url))
const repoRoot = resolve(here, '../..')
const fixtures = join(here, 'startup-fixtures')

const RUNS = Math.floor(positiveNumber(process.env.BENCH_STARTUP_RUNS, 11))
const BUDGET_MS = positiveNumber(process.env.BENCH_STARTUP_BUDGET_SEC, 120) * 1000
const CHILD_TIMEOUT_MS = 20_000

function positiveNumber(text: string | undefined, fallback: number): number {
  const value = Number(text)
  return text !== undefined && Number.isFinite(value) && value >= 1 ? value : fallback
}

/** How the first token is obtained; see the module comment. */
type TokenMode = 'api' | 'http'
const MODES: readonly TokenMode[] = ['api', 'http']

/** One server set-up under test: a fixture script and what its import must resolve to. */
interface Contender {
  readonly name: string
  readonly file: string
  readonly args: readonly string[]
  /** A fragment of the resolved module URL that proves the intended build was loaded. */
  readonly resolvedMustInclude: string
}

const m2m: Contender = {
  name: '@oauth-m2m/testing',
  file: 'oauth-m2m-testing.mjs',
  args: [],
  resolvedMustInclude: '/packages/testing/dist/',
}
const mockRs256: Contender = {
  name: 'oauth2-mock-server (RS256, README)',
  file: 'oauth2-mock-server.mjs',
  args: ['RS256'],
  resolvedMustInclude: '/oauth2-mock-server/dist/',
}
const mockEs256: Contender = {
  name: 'oauth2-mock-server (ES256 key)',
  file: 'oauth2-mock-server.mjs',
  args: ['ES256'],
  resolvedMustInclude: '/oauth2-mock-server/dist/',
}
const CONTENDERS = [m2m, mockRs256, mockEs256] as const

/** What one fixture process reports: milliseconds since its process started. */
interface Sample {
  enteredMs: number
  importedMs: number
  listeningMs: number
  tokenMs: number
}

const running = new Set<ReturnType<typeof spawn>>()

function killAll(): void {
  for (const child of running) child.kill('SIGKILL')
}

/** The environment of a fixture: this one without NODE_OPTIONS, so no preload or flag skews its start. */
function fixtureEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env }
  delete env.NODE_OPTIONS
  return env
}

function runFixture(contender: Contender, mode: TokenMode): Promise<Sample> {
  const label = `${contender.name} ${mode}`
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [join(fixtures, contender.file), mode, ...contender.args], {
      cwd: repoRoot,
      env: fixtureEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    running.add(child)
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk
    })
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-4000)
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS)
    child.once('error', (error) => {
      clearTimeout(timer)
      running.delete(child)
      reject(error)
    })
    child.once('close', (code, signal) => {
      clearTimeout(timer)
      running.delete(child)
      if (code !== 0) {
        reject(new Error(`${label}: fixture exited with ${signal ?? `code ${code}`}:\n${stderr}`))
        return
      }
      try {
        resolvePromise(parseSample(label, contender, stdout))
      } catch (error) {
        reject(error)
      }
    })
  })
}

function parseSample(label: string, contender: Contender, stdout: string): Sample {
  const lines = stdout.trim().split('\n')
  if (lines.length !== 1)
    throw new Error(`${label}: expected one result line, got:\n${stdout.slice(0, 2000)}`)
  const result = JSON.parse(lines[0]!) as Partial<Sample> & { resolved?: unknown; tokenParts?: unknown }
  if (typeof result.resolved !== 'string' || !result.resolved.includes(contender.resolvedMustInclude)) {
    throw new Error(`${label}: loaded ${String(result.resolved)}, not ${contender.resolvedMustInclude}`)
  }
  if (result.tokenParts !== 3) throw new Error(`${label}: the first token is not a JWS`)
  const { enteredMs, importedMs, listeningMs, tokenMs } = result
  const times = [enteredMs, importedMs, listeningMs, tokenMs]
  const ordered = times.every(
    (t, i) => typeof t === 'number' && Number.isFinite(t) && t > 0 && (i === 0 || t >= times[i - 1]!),
  )
  if (!ordered) throw new Error(`${label}: timestamps missing or out of order: ${lines[0]}`)
  return { enteredMs: enteredMs!, importedMs: importedMs!, listeningMs: listeningMs!, tokenMs: tokenMs! }
}

/** Samples of one contender, by token mode. */
type Samples = Record<TokenMode, Sample[]>

function median(values: number[]): number {
  if (values.length === 0) throw new Error('median of no samples')
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** One round: every contender in both modes, the contenders' order rotated by `round`. */
async function runRound(round: number, into?: Map<Contender, Samples>): Promise<void> {
  const order = CONTENDERS.map((_, i) => CONTENDERS[(i + round) % CONTENDERS.length]!)
  for (const mode of MODES) {
    for (const contender of order) {
      const sample = await runFixture(contender, mode)
      into?.get(contender)?.[mode].push(sample)
    }
  }
}

function spread(name: string, values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b)
  return `${name}: median ${median(values).toFixed(1)} ms (min ${sorted[0]!.toFixed(1)}, max ${sorted.at(-1)!.toFixed(1)}, n ${values.length})`
}

/** Runs the start-up bench and returns its rows. */
export async function run(): Promise<BenchRow[]> {
  process.once('exit', killAll)
  try {
    console.error('  warm-up round (not measured)')
    await runRound(0)
    const samples = new Map<Contender, Samples>(CONTENDERS.map((c) => [c, { api: [], http: [] }]))
    const started = performance.now()
    let rounds = 0
    while (rounds < RUNS && performance.now() - started < BUDGET_MS) {
      await runRound(rounds + 1, samples)
      rounds++
    }
    console.error(
      `  ${rounds} measured rounds of ${CONTENDERS.length * MODES.length} processes in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    )

    type Pick = (s: Sample) => number
    const all = (c: Contender, pick: Pick) => [...samples.get(c)!.api, ...samples.get(c)!.http].map(pick)
    const of = (c: Contender, mode: TokenMode, pick: Pick) => samples.get(c)![mode].map(pick)
    const figures: { name: string; values: (c: Contender) => number[]; against: Contender[] }[] = [
      {
        name: 'process start → fixture script entry (Node boot)',
        values: (c) => all(c, (s) => s.enteredMs),
        against: [mockRs256],
      },
      {
        name: 'process start → package imported',
        values: (c) => all(c, (s) => s.importedMs),
        against: [mockRs256],
      },
      {
        name: 'process start → server listening',
        values: (c) => all(c, (s) => s.listeningMs),
        against: [mockRs256, mockEs256],
      },
      {
        name: 'process start → first token, in process (mintToken / buildToken)',
        values: (c) => of(c, 'api', (s) => s.tokenMs),
        against: [mockRs256, mockEs256],
      },
      {
        name: 'process start → first token over HTTP client_credentials',
        values: (c) => of(c, 'http', (s) => s.tokenMs),
        against: [mockRs256, mockEs256],
      },
    ]

    const rows: BenchRow[] = []
    for (const figure of figures) {
      console.error(`  ${figure.name}`)
      for (const c of CONTENDERS) console.error(`    ${spread(c.name, figure.values(c))}`)
      for (const baseline of figure.against) {
        rows.push({
          group: 'startup',
          name: figure.name,
          value: median(figure.values(m2m)),
          unit: 'ms',
          baseline: { name: baseline.name, value: median(figure.values(baseline)) },
          higherIsBetter: false,
        })
      }
    }
    return rows
  } finally {
    killAll()
    process.off('exit', killAll)
  }
}
