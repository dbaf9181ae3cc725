/**
 * The packages as a user gets them. Every published package is packed with `pnpm pack` (its
 * `prepack` builds it; pnpm turns `workspace:` ranges into versions), the tarballs are installed
 * with npm into a new project outside the workspace, and there:
 *
 * - what the tarballs hold and what their manifests say is checked;
 * - every entry point loads with `import` and with `require()` (Node.js ≥ 20.19 loads ES modules);
 * - a consumer that imports every entry point and each README's quickstart type-check under
 *   TypeScript's `nodenext` and `bundler` resolutions, each with the oldest and the newest
 *   `@types/node` the packages support; a CommonJS consumer (what NestJS compiles to) type-checks
 *   and runs under `nodenext` and under `commonjs` + `bundler`;
 * - each README's quickstart (its first `ts` block, read from the README in the tarball) runs, with
 *   the world it talks to (issuer, API, token, key) provided by a harness in
 *   packaging-fixtures/harness.
 *
 * Also here: `npm pack` is refused (it would ship `workspace:` ranges), the CHANGELOGs have the
 * shape Changesets writes into, and `changeset version` on a copy of the workspace bumps the fixed
 * group and prepends to them.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('../../', import.meta.url))
const fixtures = fileURLToPath(new URL('./packaging-fixtures/', import.meta.url))
const requireFromTests = createRequire(join(root, 'test', 'package.json'))
const tsc = requireFromTests.resolve('typescript/bin/tsc')

interface Manifest {
  name: string
  version: string
  private?: boolean
  license?: string
  engines?: { node?: string }
  keywords?: string[]
  files?: string[]
  bin?: Record<string, string>
  scripts?: Record<string, string>
  exports: Record<string, Record<string, string>>
  publishConfig?: { access?: string }
  dependencies?: Record<string, string>
  devDependencies?: Record<string, string>
  peerDependencies?: Record<string, string>
  optionalDependencies?: Record<string, string>
}

const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T

/** The published packages: every non-private folder under packages/. */
const published = readdirSync(join(root, 'packages'))
  .filter((folder) => existsSync(join(root, 'packages', folder, 'package.json')))
  .map((folder) => ({ folder, manifest: readJson<Manifest>(join(root, 'packages', folder, 'package.json')) }))
  .filter(({ manifest }) => manifest.private !== true)

/** What require(esm) needs: unflagged from 20.19 on the 20 line and from 22.12 on. */
const ENGINES_NODE = '^20.19.0 || >=22.12.0'

/** `@types/node` releases installed side by side under aliases (test/package.json). */
const typesNodeAliases = ['@types/node-oldest', '@types/node-newest'] as const

/** The free names the READMEs' quickstarts use, which the harness provides. */
const QUICKSTART_GLOBALS = `declare var token: string
declare var apiUrl: string
declare var privateKey: import('node:crypto').KeyObject
declare var pem: string
`

/** pnpm as CI runs it (`npx pnpm@10 check` puts it on PATH), or the version packageManager names. */
function pnpmCommand(): [string, string[]] {
  if (spawnSync('pnpm', ['--version'], { stdio: 'ignore' }).status === 0) return ['pnpm', []]
  const { packageManager } = readJson<{ packageManager: string }>(join(root, 'package.json'))
  return ['npx', ['--yes', packageManager]]
}

/**
 * The environment without what a `pnpm run` around this test put there for its own scripts: npm
 * would take pnpm's `npm_config_user_agent` as its own (and the prepack would think pnpm packs),
 * and an inner vitest reads `VITEST_*`. Registry and cache settings (`npm_config_registry`, …) stay.
 */
function userEnv(): NodeJS.ProcessEnv {
  const own =
    /^(npm_config_user_agent|npm_lifecycle_\w+|npm_package_\w+|npm_command|npm_execpath|npm_node_execpath|pnpm_config_\w+|PNPM_\w+|VITEST\w*|TEST)$/i
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !own.test(name)))
}

interface Run {
  status: number | null
  output: string
}

/** Runs a command without blocking the event loop (so several can run at once). */
function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd,
      env: { ...userEnv(), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8')
    })
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8')
    })
    child.on('error', reject)
    child.on('close', (status) => resolve({ status, output }))
  })
}

/** Runs the tasks, at most `limit` at a time (the machine has two cores). */
async function inBatches<T>(tasks: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = []
  let next = 0
  const worker = async () => {
    while (next < tasks.length) {
      const index = next++
      results[index] = await (tasks[index] as () => Promise<T>)()
    }
  }
  await Promise.all(Array.from({ length: limit }, worker))
  return results
}

/** The first fenced `ts` (or `js`) block of a README. */
function firstCodeBlock(markdown: string): string | undefined {
  return /^```(?:ts|typescript|js|javascript)\n([\s\S]*?)^```/m.exec(markdown)?.[1]
}

/** Every specifier a package exports: `@oauth-m2m/verifier`, `@oauth-m2m/verifier/express`, … */
function entryPoints(manifest: Manifest): string[] {
  return Object.keys(manifest.exports).map((entry) =>
    entry === '.' ? manifest.name : `${manifest.name}/${entry.slice(2)}`,
  )
}

const allEntryPoints = published.flatMap(({ manifest }) => entryPoints(manifest))

let work: string
let project: string
const tarballs = new Map<string, string>()
/** Files of each tarball, without the leading `package/`. */
const tarballFiles = new Map<string, string[]>()
const packedManifests = new Map<string, Manifest>()

describe('packed, and installed into a new project', () => {
  beforeAll(async () => {
    // The temporary project must be outside the workspace, so that nothing resolves through it.
    work = mkdtempSync(join(tmpdir(), 'oauth-m2m-packaging-'))
    expect(relative(root, work).startsWith('..')).toBe(true)
    const tarballDir = join(work, 'tarballs')
    mkdirSync(tarballDir)

    // One build first; each prepack's `tsc -b` then finds it current. Packing one package at a
    // time: client's prepack builds core too, and two builds of one project must not race.
    const build = spawnSync(process.execPath, [tsc, '-b'], { cwd: root, encoding: 'utf8' })
    expect(build.status, `tsc -b:\n${build.stdout}${build.stderr}`).toBe(0)
    const [pnpm, pnpmArgs] = pnpmCommand()
    for (const { folder, manifest } of published) {
      const packed = await run(
        pnpm,
        [...pnpmArgs, 'pack', '--pack-destination', tarballDir],
        join(root, 'packages', folder),
      )
      expect(packed.output, `pnpm pack in packages/${folder}`).not.toMatch(/ERR_PNPM|error TS/)
      expect(packed.status, `pnpm pack in packages/${folder}:\n${packed.output}`).toBe(0)
      const tarball = join(
        tarballDir,
        `${manifest.name.replace('@', '').replace('/', '-')}-${manifest.version}.tgz`,
      )
      expect(existsSync(tarball), tarball).toBe(true)
      tarballs.set(manifest.name, tarball)
      tarballFiles.set(
        manifest.name,
        execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' })
          .split('\n')
          .filter(Boolean)
          .map((file) => file.replace(/^package\//, '')),
      )
      packedManifests.set(
        manifest.name,
        JSON.parse(
          execFileSync('tar', ['-xzOf', tarball, 'package/package.json'], { encoding: 'utf8' }),
        ) as Manifest,
      )
    }

    // A user's project: npm, the tarballs, msw (the optional peer that @oauth-m2m/testing/msw
    // needs, which the testing README installs) and the OpenTelemetry SDK the opentelemetry
    // quickstart records to, in the versions its tests use. npm's cache serves what it already holds.
    project = join(work, 'project')
    mkdirSync(project)
    writeFileSync(
      join(project, 'package.json'),
      `${JSON.stringify({ name: 'consumer', private: true, type: 'module' }, null, 2)}\n`,
    )
    const msw = readJson<Manifest>(join(root, 'package.json')).devDependencies?.msw ?? '^2'
    const otel =
      readJson<Manifest>(join(root, 'packages', 'opentelemetry', 'package.json')).devDependencies ?? {}
    const otelPackages = [
      '@opentelemetry/api',
      '@opentelemetry/sdk-trace-base',
      '@opentelemetry/sdk-metrics',
    ].map((name) => `${name}@${otel[name]}`)
    const installed = await run(
      'npm',
      [
        'install',
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        ...tarballs.values(),
        `msw@${msw}`,
        ...otelPackages,
      ],
      project,
      { npm_config_loglevel: 'error' },
    )
    expect(installed.status, `npm install:\n${installed.output}`).toBe(0)

    // vitest runs the testing README's quickstart: the workspace's own, linked rather than downloaded.
    symlinkSync(
      realpathSync(dirname(requireFromTests.resolve('vitest/package.json'))),
      join(project, 'node_modules', 'vitest'),
    )
  }, 600_000)

  // Deleting the project's node_modules takes longer than the default hook timeout on a loaded machine.
  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true })
  }, 120_000)

  describe('the packed packages', () => {
    it('are every package under packages/ that is not private', () => {
      expect(published.map(({ manifest }) => manifest.name).sort()).toEqual(
        expect.arrayContaining([
          '@oauth-m2m/client',
          '@oauth-m2m/core',
          '@oauth-m2m/server',
          '@oauth-m2m/testing',
          '@oauth-m2m/verifier',
        ]),
      )
      expect(tarballs.size).toBe(published.length)
    })

    for (const { folder, manifest } of published) {
      describe(manifest.name, () => {
        it('names versions, not workspace: ranges, for its dependencies on the other packages', () => {
          const packed = packedManifests.get(manifest.name) as Manifest
          const text = JSON.stringify(packed)
          expect(text).not.toContain('workspace:')
          for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies'] as const) {
            for (const [dependency, range] of Object.entries(packed[field] ?? {})) {
              const sibling = published.find((other) => other.manifest.name === dependency)
              if (sibling) expect(range, `${field}.${dependency}`).toBe(sibling.manifest.version)
            }
          }
          // The source manifest did use workspace: ranges, so the rewrite is what made them versions.
          const workspaceRanges = Object.values(manifest.dependencies ?? {}).filter((range) =>
            range.startsWith('workspace:'),
          )
          if (folder !== 'core') expect(workspaceRanges.length).toBeGreaterThan(0)
        })

        it('says its license, engines, keywords and access', () => {
          const packed = packedManifests.get(manifest.name) as Manifest
          expect(packed.license).toBe('MIT')
          expect(packed.engines?.node).toBe(ENGINES_NODE)
          expect(packed.keywords?.length).toBeGreaterThan(3)
          expect(packed.publishConfig?.access).toBe('public')
          // The build that ran before packing; pnpm leaves it out of the packed manifest.
          expect(manifest.scripts?.prepack).toBe('node ../../scripts/prepack.mjs')
        })

        it('ships the license, README, CHANGELOG, a built dist/ and the sources its maps point to, and no tests', () => {
          const files = tarballFiles.get(manifest.name) as string[]
          expect(files).toEqual(
            expect.arrayContaining(['package.json', 'LICENSE', 'README.md', 'CHANGELOG.md']),
          )
          // The LICENSE installed from the tarball is the repository's.
          const license = readFileSync(join(root, 'LICENSE'), 'utf8')
          expect(license).toContain('MIT License')
          expect(readFileSync(join(project, 'node_modules', manifest.name, 'LICENSE'), 'utf8')).toBe(license)
          for (const conditions of Object.values(manifest.exports)) {
            for (const target of Object.values(conditions))
              expect(files).toContain(target.replace(/^\.\//, ''))
          }
          for (const target of Object.values(manifest.bin ?? {}))
            expect(files).toContain(target.replace(/^\.\//, ''))
          const sources = files.filter((file) => /^src\/.*\.ts$/.test(file))
          const outputs = files.filter((file) => file.startsWith('dist/'))
          expect(sources.length).toBeGreaterThan(0)
          // Built: every source has its declarations and their map. Fresh: no declaration of a
          // deleted source.
          for (const source of sources) {
            const stem = source.replace(/^src\//, 'dist/').replace(/\.ts$/, '')
            for (const suffix of ['.d.ts', '.d.ts.map']) expect(files).toContain(`${stem}${suffix}`)
          }
          for (const output of outputs.filter((file) => /\.d\.ts(\.map)?$/.test(file))) {
            const source = output.replace(/^dist\//, 'src/').replace(/\.d\.ts(\.map)?$/, '.ts')
            expect(sources, `${output} has no source`).toContain(source)
          }
          // The JavaScript is bundled: a file per entry point and the chunks they share, each
          // with its map, and nothing else.
          const scripts = outputs.filter((file) => file.endsWith('.js'))
          for (const script of scripts) {
            expect(files).toContain(`${script}.map`)
            const entry = script.replace(/^dist\//, 'src/').replace(/\.js$/, '.ts')
            if (!sources.includes(entry)) expect(script).toMatch(/^dist\/[\w-]+-[A-Z0-9]{8}\.js$/)
          }
          expect(scripts.length).toBeLessThan(sources.length)
          expect(
            files.filter((file) => /(^|\/)test\/|\.test\.|\.tsbuildinfo$|^node_modules\//.test(file)),
          ).toEqual([])
          expect(files.filter((file) => !/^(dist|src|bin)\//.test(file)).sort()).toEqual(
            ['CHANGELOG.md', 'LICENSE', 'README.md', 'package.json'].sort(),
          )
        })
      })
    }

    it('are installed from the tarballs, not fetched from a registry', () => {
      const lock = readJson<{ packages: Record<string, { version?: string; resolved?: string }> }>(
        join(project, 'package-lock.json'),
      )
      for (const { manifest } of published) {
        const entry = lock.packages[`node_modules/${manifest.name}`]
        expect(entry?.version, manifest.name).toBe(manifest.version)
        expect(entry?.resolved, manifest.name).toMatch(/^file:/)
        // Only one copy: the dependents' exact versions are met by the installed tarball.
        const copies = Object.keys(lock.packages).filter((path) =>
          path.endsWith(`node_modules/${manifest.name}`),
        )
        expect(copies, manifest.name).toEqual([`node_modules/${manifest.name}`])
      }
    })

    it('load with import and with require(), every entry point', async () => {
      const specifiers = JSON.stringify(allEntryPoints)
      const esm = await run(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `for (const s of ${specifiers}) await import(s); console.log('imported')`,
        ],
        project,
      )
      expect(esm.output.trim()).toBe('imported')
      const cjs = await run(
        process.execPath,
        [
          '--no-warnings',
          '--input-type=commonjs',
          '-e',
          `for (const s of ${specifiers}) require(s); console.log('required')`,
        ],
        project,
      )
      expect(cjs.output.trim()).toBe('required')
    })
  })

  describe('in a TypeScript project', () => {
    let typeChecks: Map<string, Run>

    /** Which READMEs' first blocks go where: the testing one is a vitest test file. */
    const quickstartFile = (folder: string) => (folder === 'testing' ? `${folder}.test.ts` : `${folder}.ts`)

    beforeAll(async () => {
      cpSync(join(fixtures, 'harness'), join(project, 'harness'), { recursive: true })
      mkdirSync(join(project, 'commonjs'))
      cpSync(join(fixtures, 'commonjs', 'package.json'), join(project, 'commonjs', 'package.json'))
      cpSync(join(fixtures, 'commonjs', 'main.ts.txt'), join(project, 'commonjs', 'main.ts'))
      mkdirSync(join(project, 'quickstart'))
      for (const { folder, manifest } of published) {
        // The README that ships, in the installed package.
        const readme = readFileSync(join(project, 'node_modules', manifest.name, 'README.md'), 'utf8')
        const block = firstCodeBlock(readme)
        expect(block, `${manifest.name} README has a ts block`).toBeDefined()
        writeFileSync(join(project, 'quickstart', quickstartFile(folder)), block as string)
      }
      writeFileSync(join(project, 'globals.d.ts'), QUICKSTART_GLOBALS)
      writeFileSync(
        join(project, 'entry-points.ts'),
        `${allEntryPoints.map((specifier, index) => `import * as m${index} from '${specifier}'`).join('\n')}\n` +
          `export const everything = [${allEntryPoints.map((_, index) => `m${index}`).join(', ')}]\n`,
      )

      const typeRoots = new Map<string, string>()
      for (const alias of typesNodeAliases) {
        // A type root of its own in which `node` is this release, so every `/// <reference
        // types="node" />` resolves to it.
        const typeRoot = join(work, `types-${alias.replace('@types/node-', '')}`)
        mkdirSync(typeRoot)
        symlinkSync(dirname(requireFromTests.resolve(`${alias}/package.json`)), join(typeRoot, 'node'), 'dir')
        typeRoots.set(alias, typeRoot)
      }
      const esmFiles = ['globals.d.ts', 'entry-points.ts', 'quickstart', 'harness']
      const common = { target: 'es2022', strict: true, skipLibCheck: true, types: ['node'] }
      const configs: Record<string, { compilerOptions: Record<string, unknown>; include: string[] }> = {}
      for (const [alias, typeRoot] of typeRoots) {
        const release = alias.replace('@types/node-', '')
        // The newest also builds the quickstarts and their harness to run (the README blocks are
        // TypeScript); one compilation less than a build of its own.
        const build = release === 'newest' ? { rootDir: '.', outDir: 'out' } : { noEmit: true }
        configs[`esm-nodenext-${release}`] = {
          compilerOptions: {
            ...common,
            typeRoots: [typeRoot],
            module: 'nodenext',
            moduleResolution: 'nodenext',
            ...build,
          },
          include: esmFiles,
        }
        configs[`esm-bundler-${release}`] = {
          compilerOptions: {
            ...common,
            typeRoots: [typeRoot],
            module: 'esnext',
            moduleResolution: 'bundler',
            noEmit: true,
          },
          include: esmFiles,
        }
      }
      const newest = typeRoots.get('@types/node-newest') as string
      configs['cjs-nodenext'] = {
        compilerOptions: {
          ...common,
          typeRoots: [newest],
          module: 'nodenext',
          moduleResolution: 'nodenext',
          rootDir: 'commonjs',
          outDir: 'out-cjs-nodenext',
        },
        include: ['commonjs'],
      }
      configs['cjs-commonjs-bundler'] = {
        compilerOptions: {
          ...common,
          typeRoots: [newest],
          module: 'commonjs',
          moduleResolution: 'bundler',
          rootDir: 'commonjs',
          outDir: 'out-cjs-bundler',
        },
        include: ['commonjs'],
      }
      for (const [name, config] of Object.entries(configs)) {
        writeFileSync(join(project, `tsconfig.${name}.json`), JSON.stringify(config, null, 2))
      }
      const names = Object.keys(configs)
      const results = await inBatches(
        names.map((name) => () => run(process.execPath, [tsc, '-p', `tsconfig.${name}.json`], project)),
        2,
      )
      typeChecks = new Map(names.map((name, index) => [name, results[index] as Run]))
    }, 300_000)

    for (const release of ['oldest', 'newest']) {
      for (const resolution of ['nodenext', 'bundler']) {
        it(`type-checks every entry point and every quickstart under ${resolution}, @types/node ${release}`, () => {
          const version = readJson<{ version: string }>(
            join(dirname(requireFromTests.resolve(`@types/node-${release}/package.json`)), 'package.json'),
          ).version
          const result = typeChecks.get(`esm-${resolution}-${release}`) as Run
          expect(result.output, `tsc (${resolution}, @types/node ${version})`).toBe('')
          expect(result.status).toBe(0)
        })
      }
    }

    for (const [config, outDir] of [
      ['cjs-nodenext', 'out-cjs-nodenext'],
      ['cjs-commonjs-bundler', 'out-cjs-bundler'],
    ] as const) {
      it(`serves a CommonJS project (NestJS's output) compiled with ${config.replace('cjs-', '')}`, async () => {
        const result = typeChecks.get(config) as Run
        expect(result.output).toBe('')
        expect(result.status).toBe(0)
        const compiled = readFileSync(join(project, outDir, 'main.js'), 'utf8')
        expect(compiled).toMatch(/require\("@oauth-m2m\/client"\)/)
        writeFileSync(join(project, outDir, 'package.json'), '{ "type": "commonjs" }\n')
        const ran = await run(process.execPath, ['--no-warnings', join(outDir, 'main.js')], project)
        expect(ran.status, ran.output).toBe(0)
        expect(JSON.parse(ran.output)).toEqual({
          commonjs: true,
          clientId: 'test-client',
          createAuthorizationServer: 'function',
        })
      }, 60_000)
    }

    describe("each README's quickstart runs", () => {
      const quickstart = async (folder: string) => {
        expect(
          typeChecks.get('esm-nodenext-newest')?.output,
          'tsc -p tsconfig.esm-nodenext-newest.json',
        ).toBe('')
        const ran = await run(
          process.execPath,
          [`out/harness/run-${folder}.js`, `out/quickstart/${folder}.js`],
          project,
        )
        expect(ran.status, ran.output).toBe(0)
        const line = ran.output.split('\n').find((text) => text.startsWith('QUICKSTART '))
        expect(line, ran.output).toBeDefined()
        return JSON.parse((line as string).slice('QUICKSTART '.length)) as Record<string, unknown>
      }

      it('@oauth-m2m/core: the strategies', async () => {
        expect(await quickstart('core')).toEqual({ completed: true })
      }, 60_000)

      it('@oauth-m2m/client: a token from the issuer, and the API called with it', async () => {
        const result = await quickstart('client')
        // Two keys (the default scope and resource, then write:things at api.c): two token requests.
        expect(result.tokenRequests).toBe(2)
        expect(result.apiCalls).toEqual([
          { url: 'https://api.b.example.com/things', status: 200, clientId: 'service-a' },
        ])
      }, 60_000)

      it("@oauth-m2m/verifier: a token verified with the issuer's keys", async () => {
        const result = await quickstart('verifier')
        expect(result.completed).toBe(true)
        expect(result.serverRequests).toEqual(
          expect.arrayContaining(['GET /.well-known/oauth-authorization-server', 'GET /jwks']),
        )
      }, 60_000)

      it('@oauth-m2m/server: a server on a free port, closed', async () => {
        expect(await quickstart('server')).toEqual({ completed: true })
      }, 60_000)

      it('@oauth-m2m/testing: its vitest file passes', async () => {
        writeFileSync(
          join(project, 'vitest.config.mjs'),
          "export default { test: { include: ['quickstart/testing.test.ts'], setupFiles: ['harness/testing-setup.ts'] } }\n",
        )
        const vitest = join(project, 'node_modules', 'vitest', 'vitest.mjs')
        const ran = await run(
          process.execPath,
          [vitest, 'run', '--reporter=json', '--outputFile=vitest.json'],
          project,
        )
        expect(ran.status, ran.output).toBe(0)
        const report = readJson<{ numPassedTests: number; numTotalTests: number }>(
          join(project, 'vitest.json'),
        )
        expect(report.numTotalTests).toBeGreaterThan(0)
        expect(report.numPassedTests).toBe(report.numTotalTests)
      }, 120_000)

      it('@oauth-m2m/opentelemetry: the token requests recorded to the SDK the process registered', async () => {
        expect(await quickstart('opentelemetry')).toEqual({
          completed: true,
          spans: ['oauth_m2m.client.token_fetch'],
          lookups: { miss: 1, hit: 1 },
        })
      }, 60_000)

      it('@oauth-m2m/redis: a server instance on a real redis-server, its state in Redis', async () => {
        const result = await quickstart('redis')
        expect(result.completed).toBe(true)
        expect(result.keysInRedis).toBeGreaterThan(0)
      }, 60_000)

      it('covers every published package', () => {
        const covered = ['core', 'client', 'verifier', 'server', 'testing', 'redis', 'opentelemetry']
        expect(published.map(({ folder }) => folder).filter((folder) => !covered.includes(folder))).toEqual(
          [],
        )
      })
    })
  })
})

describe('packing paths', () => {
  it('pnpm pack of a fresh checkout builds first, and leaves out what deleted sources had built', async () => {
    // A checkout of @oauth-m2m/core (it references no other package) that was never built,
    // except for one output whose source is gone.
    const checkout = mkdtempSync(join(tmpdir(), 'oauth-m2m-fresh-'))
    try {
      const core = join(checkout, 'packages', 'core')
      for (const file of [
        'tsconfig.base.json',
        'LICENSE',
        'scripts/prepack.mjs',
        'scripts/bundle-packages.mjs',
      ]) {
        cpSync(join(root, file), join(checkout, file))
      }
      for (const file of ['package.json', 'tsconfig.json', 'README.md', 'CHANGELOG.md', 'src']) {
        cpSync(join(root, 'packages', 'core', file), join(core, file), { recursive: true })
      }
      symlinkSync(join(root, 'node_modules'), join(checkout, 'node_modules'), 'dir')
      symlinkSync(join(root, 'packages', 'core', 'node_modules'), join(core, 'node_modules'), 'dir')
      mkdirSync(join(core, 'dist'))
      writeFileSync(join(core, 'dist', 'deleted-module.js'), 'export {}\n')
      writeFileSync(join(core, 'dist', 'deleted-module.d.ts'), 'export {}\n')

      const [pnpm, pnpmArgs] = pnpmCommand()
      const packed = await run(pnpm, [...pnpmArgs, 'pack', '--pack-destination', checkout], core)
      expect(packed.status, packed.output).toBe(0)
      const { version } = readJson<Manifest>(join(core, 'package.json'))
      const tarball = join(checkout, `oauth-m2m-core-${version}.tgz`)
      const files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' })
      expect(files).toContain('package/dist/index.js')
      expect(files).toContain('package/dist/index.d.ts')
      expect(files).not.toContain('deleted-module')
      expect(packed.output).toContain('removed 1 stale output(s) of deleted sources: deleted-module.d.ts')
    } finally {
      rmSync(checkout, { recursive: true, force: true })
    }
  }, 120_000)

  it('npm pack is refused, since it would ship the workspace: ranges', () => {
    const destination = mkdtempSync(join(tmpdir(), 'oauth-m2m-npm-pack-'))
    try {
      const result = spawnSync('npm', ['pack', '--pack-destination', destination], {
        cwd: join(root, 'packages', 'client'),
        env: userEnv(),
        encoding: 'utf8',
      })
      expect(result.status).not.toBe(0)
      expect(result.stderr).toContain('prepack: refusing to pack with npm/')
      expect(readdirSync(destination)).toEqual([])
    } finally {
      rmSync(destination, { recursive: true, force: true })
    }
  })
})

describe('release notes (Changesets)', () => {
  const config = readJson<{ fixed: string[][]; privatePackages: { version: boolean } }>(
    join(root, '.changeset', 'config.json'),
  )

  it('version every published package together, in one fixed group', () => {
    expect(config.fixed).toHaveLength(1)
    expect([...(config.fixed[0] ?? [])].sort()).toEqual(published.map(({ manifest }) => manifest.name).sort())
    expect(config.privatePackages.version).toBe(false)
  })

  for (const { folder, manifest } of published) {
    it(`${manifest.name}: CHANGELOG.md is the title, then the versions, newest first`, () => {
      // changeset version inserts the new version after the first line: anything between the
      // title and the newest version (an introduction, an "Unreleased" section) would end up
      // under the new version.
      const lines = readFileSync(join(root, 'packages', folder, 'CHANGELOG.md'), 'utf8').split('\n')
      expect(lines[0]).toBe(`# ${manifest.name}`)
      // Nothing yet, or the newest version (0.1.0 was written by hand as `## [0.1.0] - date`).
      const firstContent = lines.slice(1).find((line) => line.trim() !== '')
      if (firstContent !== undefined) expect(firstContent).toMatch(/^## \[?\d+\.\d+\.\d+/)
      expect(
        lines.filter((line) => /^#+\s*\[?unreleased/i.test(line)),
        'notes for the next release are changesets: pnpm changeset (see .changeset/README.md)',
      ).toEqual([])
    })
  }

  it('changeset version bumps them all to one version and prepends it to each CHANGELOG', () => {
    const copy = mkdtempSync(join(tmpdir(), 'oauth-m2m-changesets-'))
    try {
      for (const file of ['package.json', 'pnpm-workspace.yaml']) cpSync(join(root, file), join(copy, file))
      cpSync(join(root, '.changeset'), join(copy, '.changeset'), { recursive: true })
      for (const { folder } of published) {
        for (const file of ['package.json', 'CHANGELOG.md']) {
          cpSync(join(root, 'packages', folder, file), join(copy, 'packages', folder, file))
        }
      }
      symlinkSync(join(root, 'node_modules'), join(copy, 'node_modules'), 'dir')
      const git = (...args: string[]) =>
        execFileSync('git', ['-c', 'user.name=test', '-c', 'user.email=test@example.invalid', ...args], {
          cwd: copy,
          stdio: 'pipe',
        })
      git('init', '-q')
      git('add', '-A')
      git('commit', '-qm', 'before')
      writeFileSync(
        join(copy, '.changeset', 'packaging-test.md'),
        "---\n'@oauth-m2m/client': patch\n---\n\nA change made by the packaging test.\n",
      )
      git('add', '-A')
      git('commit', '-qm', 'a changeset')

      const before = new Map(
        published.map(({ folder }) => [
          folder,
          readFileSync(join(copy, 'packages', folder, 'CHANGELOG.md'), 'utf8'),
        ]),
      )
      const cli = join(root, 'node_modules', '@changesets', 'cli', 'bin.js')
      const result = spawnSync(process.execPath, [cli, 'version'], {
        cwd: copy,
        env: userEnv(),
        encoding: 'utf8',
      })
      expect(result.status, result.stdout + result.stderr).toBe(0)

      const versions = published.map(({ folder }) =>
        readJson<Manifest>(join(copy, 'packages', folder, 'package.json')),
      )
      const version = versions[0]?.version as string
      expect(new Set(versions.map((manifest) => manifest.version))).toEqual(new Set([version]))
      expect(version).not.toBe(published[0]?.manifest.version)
      for (const manifest of versions) {
        for (const [dependency, range] of Object.entries(manifest.dependencies ?? {})) {
          if (dependency.startsWith('@oauth-m2m/')) expect(range, dependency).toBe('workspace:*')
        }
      }
      for (const { folder, manifest } of published) {
        const old = before.get(folder) as string
        const now = readFileSync(join(copy, 'packages', folder, 'CHANGELOG.md'), 'utf8')
        expect(now.startsWith(`# ${manifest.name}\n\n## ${version}\n`), now.slice(0, 200)).toBe(true)
        expect(now.endsWith(old.slice(old.indexOf('\n') + 1))).toBe(true)
      }
      expect(readFileSync(join(copy, 'packages', 'client', 'CHANGELOG.md'), 'utf8')).toContain(
        'A change made by the packaging test.',
      )
      expect(existsSync(join(copy, '.changeset', 'packaging-test.md'))).toBe(false)
    } finally {
      rmSync(copy, { recursive: true, force: true })
    }
  }, 60_000)
})
