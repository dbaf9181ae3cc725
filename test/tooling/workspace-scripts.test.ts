import { spawnSync } from 'node:child_process'
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const root = new URL('../../', import.meta.url)
/** The examples with a README, each of which the API reference renders as a page. */
const exampleReadmes = readdirSync(new URL('examples/', root), { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && existsSync(new URL(`examples/${entry.name}/README.md`, root)))
  .map((entry) => entry.name)
/**
 * The module page TypeDoc writes for each public entry point of the packages, as the API reference
 * of this repository names them (`./internal…` entry points are left out on purpose).
 */
const entryPointPages = readdirSync(new URL('packages/', root)).flatMap((folder) => {
  const manifest = new URL(`packages/${folder}/package.json`, root)
  if (!existsSync(manifest)) return []
  const { name, exports } = JSON.parse(readFileSync(manifest, 'utf8')) as {
    name: string
    exports: Record<string, unknown>
  }
  const slug = name.replace('@', '_').replace('/', '_')
  const subpaths = Object.keys(exports).filter((subpath) => !subpath.startsWith('./internal'))
  return subpaths.map((subpath) =>
    subpath !== '.'
      ? `${slug}.${subpath.slice(2)}.html`
      : subpaths.length > 1
        ? `${slug}.${slug}.html`
        : `${slug}.html`,
  )
})
const { scripts } = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as {
  scripts: Record<string, string>
}

/** Every `pnpm <word>` a script runs, with the word. */
function pnpmCalls(command: string): string[] {
  return [...command.matchAll(/\bpnpm\s+([\w:-]+)/g)].map((match) => match[1] as string)
}

describe('workspace scripts', () => {
  // pnpm runs its built-in command when one has a script's name: `pnpm docs` printed a registry
  // URL instead of running TypeDoc, and `check` passed without an API reference. `pnpm run` always
  // runs the script.
  it('call other scripts only through `pnpm run`, which no built-in command can shadow', () => {
    const shadowable = Object.entries(scripts).flatMap(([name, command]) =>
      pnpmCalls(command)
        .filter((word) => word in scripts)
        .map((word) => `${name}: pnpm ${word}`),
    )
    expect(shadowable).toEqual([])
  })

  it('check runs build, typecheck, lint, the packed packages (publint, attw), the API reference and every test, in that order', () => {
    const steps = pnpmCalls(scripts.check ?? '').length
    expect(steps).toBeGreaterThan(0)
    expect([...(scripts.check ?? '').matchAll(/\bpnpm run ([\w:-]+)/g)].map((match) => match[1])).toEqual([
      'build',
      'typecheck',
      'lint',
      'lint:packages',
      'docs',
      'test',
    ])
  })

  it('test first makes sure redis-server is there, then runs vitest', () => {
    expect(scripts.test).toMatch(/^node scripts\/require-redis-server\.mjs && vitest run$/)
  })

  it('the docs script ends by checking that TypeDoc produced the reference', () => {
    expect(scripts.docs).toMatch(/^typedoc && node scripts\/assert-api-reference\.mjs$/)
  })
})

describe('scripts/assert-api-reference.mjs', () => {
  const script = fileURLToPath(new URL('scripts/assert-api-reference.mjs', root))
  const run = (folder: string) => spawnSync(process.execPath, [script, folder], { encoding: 'utf8' })

  it('fails when the folder has no reference', () => {
    const folder = mkdtempSync(join(tmpdir(), 'api-ref-'))
    const result = run(folder)
    expect(result.status).toBe(1)
    expect(result.stderr).toContain('the API reference was not generated')
    expect(result.stderr).toContain('index.html')
  })

  it('fails when only the index was written', () => {
    const folder = mkdtempSync(join(tmpdir(), 'api-ref-'))
    writeFileSync(join(folder, 'index.html'), '<html></html>')
    writeFileSync(join(folder, 'modules.html'), '<html></html>')
    const result = run(folder)
    expect(result.status).toBe(1)
    expect(result.stderr).toContain('modules/*.html')
  })

  /** A reference with a page for every public entry point and every example README of the repository. */
  function generatedReference(): string {
    const folder = mkdtempSync(join(tmpdir(), 'api-ref-'))
    writeFileSync(join(folder, 'index.html'), '<html></html>')
    writeFileSync(join(folder, 'modules.html'), '<html></html>')
    mkdirSync(join(folder, 'modules'))
    for (const page of entryPointPages) writeFileSync(join(folder, 'modules', page), '<html></html>')
    mkdirSync(join(folder, 'documents'))
    for (const example of exampleReadmes) {
      writeFileSync(join(folder, 'documents', `${example}_README.html`), '<html></html>')
    }
    return folder
  }

  it('passes on a generated reference', () => {
    const result = run(generatedReference())
    expect(result.status).toBe(0)
    expect(result.stdout).toContain(
      `${entryPointPages.length} module pages, ${exampleReadmes.length} example pages`,
    )
  })

  it('fails when a public entry point has no page', () => {
    const folder = generatedReference()
    expect(entryPointPages).toContain('_oauth-m2m_verifier.hono.html')
    rmSync(join(folder, 'modules', '_oauth-m2m_verifier.hono.html'))
    const result = run(folder)
    expect(result.status).toBe(1)
    expect(result.stderr).toContain('public entry points without a page: @oauth-m2m/verifier/hono')
  })

  it('fails on an entry point without a name (a blank row in the sidebar)', () => {
    const folder = generatedReference()
    writeFileSync(join(folder, 'modules', '_oauth-m2m_verifier..html'), '<html></html>')
    const result = run(folder)
    expect(result.status).toBe(1)
    expect(result.stderr).toContain('_oauth-m2m_verifier..html')
  })

  it("fails when an example's README has no page", () => {
    const folder = generatedReference()
    rmSync(join(folder, 'documents', 'dpop_README.html'))
    const result = run(folder)
    expect(result.status).toBe(1)
    expect(result.stderr).toContain('example READMEs not rendered as pages: dpop')
  })
})

describe('scripts/require-redis-server.mjs', () => {
  const script = fileURLToPath(new URL('scripts/require-redis-server.mjs', root))
  /** Runs the script with only `commands` (tiny shell scripts with the given exit status) on PATH. */
  const runWith = (commands: Record<string, number>) => {
    const bin = mkdtempSync(join(tmpdir(), 'require-redis-'))
    for (const [name, status] of Object.entries(commands)) {
      writeFileSync(join(bin, name), `#!/bin/sh\nexit ${status}\n`)
      chmodSync(join(bin, name), 0o755)
    }
    return spawnSync(process.execPath, [script], { encoding: 'utf8', env: { PATH: bin } })
  }

  it('passes at once when redis-server runs', () => {
    const result = runWith({ 'redis-server': 0, 'apt-get': 1 })
    expect(result.status).toBe(0)
    expect(result.stderr).toBe('')
  })

  it('stops with the one install line when redis-server is missing and apt-get cannot install it', () => {
    const result = runWith({})
    expect(result.status).toBe(1)
    expect(result.stderr).toBe('redis-server is missing: sudo apt-get install -y redis-server\n')
  })
})
