/**
 * Footprint bench (issue 15, "Light"): what each package costs a user who installs it and imports
 * it, beside jose, oauth4webapi and undici measured in the same run.
 *
 * Every published package is packed with `pnpm pack` (what npm would ship) and all tarballs are
 * installed with npm into one new project outside the workspace, together with the peers named
 * below, at the versions our packages depend on. Then:
 *
 * - **installed size**: the bytes of the files of a package and of everything it needs at run time
 *   (its `dependencies` and required `peerDependencies`, followed through `node_modules` as Node
 *   resolves them), each installed folder counted once, as `du --apparent-size` counts;
 * - **import time**: a new plain `node` process per measure runs
 *   `performance.now(); await import(specifier); performance.now()` and reports the difference,
 *   so node's own start is not counted. Contenders alternate within a round, and which goes first
 *   rotates, so that load from elsewhere spreads over all of them; one round warms the disk cache.
 *
 * `BENCH_FOOTPRINT_RUNS` (default 11) bounds the measured rounds, `BENCH_FOOTPRINT_BUDGET_SEC`
 * (default 120) their total time. Figures are medians, in milliseconds.
 */
import { execFile, spawnSync } from 'node:child_process'
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import type { BenchRow } from './harness.js'

const execFileAsync = promisify(execFile)
const here = dirname(fileURLToPath(import.meta.url))
const repoRoot = resolve(here, '../..')

const RUNS = Math.floor(positiveNumber(process.env.BENCH_FOOTPRINT_RUNS, 11))
const BUDGET_MS = positiveNumber(process.env.BENCH_FOOTPRINT_BUDGET_SEC, 120) * 1000

function positiveNumber(text: string | undefined, fallback: number): number {
  const value = Number(text)
  return text !== undefined && Number.isFinite(value) && value >= 1 ? value : fallback
}

interface Manifest {
  name: string
  version: string
  private?: boolean
  dependencies?: Record<string, string>
  peerDependencies?: Record<string, string>
  peerDependenciesMeta?: Record<string, { optional?: boolean }>
}

const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T

/** The peers measured beside ours, each at the range one of our packages (or the workspace) uses. */
const PEERS = ['jose', 'oauth4webapi', 'undici'] as const

function peerRange(name: string): string {
  const manifests = readdirSync(join(repoRoot, 'packages'))
    .map((folder) => join(repoRoot, 'packages', folder, 'package.json'))
    .filter(existsSync)
    .map((path) => readJson<Manifest & { devDependencies?: Record<string, string> }>(path))
  for (const manifest of manifests) {
    const range = manifest.dependencies?.[name] ?? manifest.devDependencies?.[name]
    if (range !== undefined) return range
  }
  throw new Error(`no package of the workspace depends on ${name}`)
}

/** Bytes of every file under `dir` (apparent size, symbolic links not followed). */
function treeBytes(dir: string): number {
  let total = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) total += treeBytes(path)
    else if (entry.isFile()) total += statSync(path).size
  }
  return total
}

/** Where Node would find package `name` from inside `fromDir`, walking up the `node_modules` folders. */
function resolvePackageDir(name: string, fromDir: string, projectDir: string): string | undefined {
  let dir = fromDir
  for (;;) {
    const candidate = join(dir, 'node_modules', name)
    if (existsSync(join(candidate, 'package.json'))) return candidate
    if (dir === projectDir) return undefined
    const parent = dirname(dir)
    if (parent === dir) return undefined
    dir = parent
  }
}

/**
 * The installed bytes of package `name` and of its run-time closure. A package's own folder is
 * counted without its nested `node_modules`, which are counted as the packages they hold.
 */
function installedBytes(name: string, projectDir: string): number {
  const seen = new Set<string>()
  let total = 0
  const visit = (pkg: string, fromDir: string) => {
    const dir = resolvePackageDir(pkg, fromDir, projectDir)
    if (dir === undefined || seen.has(dir)) return
    seen.add(dir)
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name === 'node_modules') continue
      const path = join(dir, entry.name)
      total += entry.isDirectory() ? treeBytes(path) : entry.isFile() ? statSync(path).size : 0
    }
    const manifest = readJson<Manifest>(join(dir, 'package.json'))
    const required = Object.keys(manifest.peerDependencies ?? {}).filter(
      (peer) => manifest.peerDependenciesMeta?.[peer]?.optional !== true,
    )
    for (const dep of [...Object.keys(manifest.dependencies ?? {}), ...required]) visit(dep, dir)
  }
  visit(name, projectDir)
  return total
}

const IMPORT_SCRIPT =
  'const s = performance.now(); await import(process.argv[1]); process.stdout.write(String(performance.now() - s))'

async function importMs(specifier: string, projectDir: string): Promise<number> {
  const { stdout } = await execFileAsync(
    process.execPath,
    ['--input-type=module', '-e', IMPORT_SCRIPT, specifier],
    {
      cwd: projectDir,
      timeout: 20_000,
    },
  )
  const ms = Number(stdout)
  if (!Number.isFinite(ms)) throw new Error(`import of ${specifier} printed ${JSON.stringify(stdout)}`)
  return ms
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}

/** Packs every published package and installs the tarballs and the peers into a new project. */
async function installProject(work: string): Promise<{ projectDir: string; ours: string[] }> {
  const tarballDir = join(work, 'tarballs')
  mkdirSync(tarballDir)
  const build = spawnSync(process.execPath, [join(repoRoot, 'node_modules/typescript/bin/tsc'), '-b'], {
    cwd: repoRoot,
    encoding: 'utf8',
  })
  if (build.status !== 0) throw new Error(`tsc -b failed:\n${build.stdout}${build.stderr}`)
  const ours: string[] = []
  for (const folder of readdirSync(join(repoRoot, 'packages')).sort()) {
    const manifestPath = join(repoRoot, 'packages', folder, 'package.json')
    if (!existsSync(manifestPath) || readJson<Manifest>(manifestPath).private === true) continue
    ours.push(readJson<Manifest>(manifestPath).name)
    // One at a time: a prepack builds its references, and two builds of one project must not race.
    await execFileAsync('npx', ['--yes', 'pnpm@10', 'pack', '--pack-destination', tarballDir], {
      cwd: join(repoRoot, 'packages', folder),
    })
  }
  const projectDir = join(work, 'project')
  mkdirSync(projectDir)
  writeFileSync(
    join(projectDir, 'package.json'),
    JSON.stringify({ name: 'footprint', private: true, type: 'module' }),
  )
  const tarballs = readdirSync(tarballDir).map((file) => join(tarballDir, file))
  const peers = PEERS.map((name) => `${name}@${peerRange(name)}`)
  await execFileAsync(
    'npm',
    ['install', '--prefer-offline', '--no-audit', '--no-fund', ...tarballs, ...peers],
    {
      cwd: projectDir,
      env: { ...process.env, npm_config_loglevel: 'error' },
    },
  )
  return { projectDir, ours }
}

export async function run(): Promise<BenchRow[]> {
  const work = mkdtempSync(join(tmpdir(), 'oauth-m2m-footprint-'))
  try {
    const { projectDir, ours } = await installProject(work)
    const contenders = [...ours, ...PEERS]
    const samples = new Map<string, number[]>(contenders.map((name) => [name, []]))

    for (const name of contenders) await importMs(name, projectDir) // warm the disk cache
    const deadline = Date.now() + BUDGET_MS
    for (let round = 0; round < RUNS && Date.now() < deadline; round++) {
      const order = contenders.map((_, i) => contenders[(i + round) % contenders.length] as string)
      for (const name of order) samples.get(name)?.push(await importMs(name, projectDir))
    }

    const importOf = (name: string) => median(samples.get(name) ?? [])
    const sizeOf = (name: string) => installedBytes(name, projectDir) / 1e6
    const jose = { name: 'jose', value: importOf('jose') }
    const undici = { name: 'undici', value: importOf('undici') }
    const rows: BenchRow[] = []
    for (const name of ours) {
      const value = importOf(name)
      const vsUndici = name === '@oauth-m2m/client'
      const baseline = vsUndici ? undici : jose
      const limit = vsUndici ? 1.3 : 2
      const targeted = [
        '@oauth-m2m/client',
        '@oauth-m2m/verifier',
        '@oauth-m2m/server',
        '@oauth-m2m/testing',
      ].includes(name)
      rows.push({
        group: 'import',
        name,
        value,
        unit: 'ms',
        baseline,
        higherIsBetter: false,
        ...(targeted ? { target: `≤ ${limit}× ${baseline.name}`, met: value <= limit * baseline.value } : {}),
      })
    }
    for (const name of ['oauth4webapi', 'undici']) {
      rows.push({
        group: 'import',
        name,
        value: importOf(name),
        unit: 'ms',
        baseline: jose,
        higherIsBetter: false,
      })
    }
    const joseSize = { name: 'jose', value: sizeOf('jose') }
    for (const name of [...ours, 'oauth4webapi', 'undici']) {
      rows.push({
        group: 'installed size',
        name,
        value: sizeOf(name),
        unit: 'MB',
        baseline: joseSize,
        higherIsBetter: false,
      })
    }
    return rows
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
}
