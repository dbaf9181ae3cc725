/**
 * Issue 15 ("Light"): importing a package loads only what its common use needs. undici (the
 * largest import of all) is loaded by the first request, jose by the first signature that needs
 * it; the packages whose import path must stay free of them are checked here, in a new `node`
 * process per entry point, on the sources and on the bundles the build wrote (what users import:
 * bundling must keep each `await import()` a chunk of its own).
 */
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const run = promisify(execFile)
const root = fileURLToPath(new URL('../../', import.meta.url))
const recorder = fileURLToPath(new URL('./import-fixtures/record-packages.mjs', import.meta.url))

/** How `node` loads the workspace packages: their TypeScript sources, or their built `dist/`. */
const BUILDS = [
  ['sources', ['--conditions=@oauth-m2m/source', '--import', 'tsx']],
  ['built bundles', []],
] as const

/**
 * The files of npm packages (`jose/dist/webapi/index.js`, …) resolved while importing `specifier`
 * with `nodeOptions`.
 */
async function packageFilesLoadedBy(specifier: string, nodeOptions: readonly string[]): Promise<string[]> {
  const { stdout } = await run(
    process.execPath,
    [
      ...nodeOptions,
      '--import',
      recorder,
      '--input-type=module',
      '-e',
      `await import(${JSON.stringify(specifier)})`,
    ],
    { cwd: `${root}test`, timeout: 60_000 },
  )
  return JSON.parse(stdout.trim().split('\n').at(-1) as string) as string[]
}

const JOSE_INDEX = 'jose/dist/webapi/index.js'
const loadsUndici = (files: string[]) => files.some((file) => file.startsWith('undici/'))

describe.each(BUILDS)('what importing an entry point loads, from its %s', (_build, nodeOptions) => {
  it.each([
    ['@oauth-m2m/core'],
    ['@oauth-m2m/core/internal'],
    ['@oauth-m2m/verifier'],
    ['@oauth-m2m/server'],
    ['@oauth-m2m/testing'],
    ['@oauth-m2m/redis'],
  ])('%s loads neither undici nor the whole of jose', async (specifier) => {
    const loaded = await packageFilesLoadedBy(specifier, nodeOptions)
    expect(loadsUndici(loaded)).toBe(false)
    expect(loaded).not.toContain(JOSE_INDEX)
  })

  it('@oauth-m2m/client loads undici, which its first call needs, but not the whole of jose nor p-retry', async () => {
    const loaded = await packageFilesLoadedBy('@oauth-m2m/client', nodeOptions)
    expect(loadsUndici(loaded)).toBe(true)
    expect(loaded).not.toContain(JOSE_INDEX)
    // Retries begin after a first request has failed; p-retry loads with the first request.
    expect(loaded.some((file) => file.startsWith('p-retry/'))).toBe(false)
  })

  it("@oauth-m2m/server loads jose's JWS verification and key import with the first assertion, not at import", async () => {
    const loaded = await packageFilesLoadedBy('@oauth-m2m/server', nodeOptions)
    expect(loaded).not.toContain('jose/dist/webapi/jwt/verify.js')
    expect(loaded).not.toContain('jose/dist/webapi/key/import.js')
  })

  it('the mutual-TLS dispatcher entry loads undici (the recorder sees what is loaded)', async () => {
    expect(loadsUndici(await packageFilesLoadedBy('@oauth-m2m/core/internal/tls', nodeOptions))).toBe(true)
  })
})

// On the sources, where modules have names (a bundle's chunks have hashes).
describe('what importing an entry point leaves for later, by module', () => {
  it('@oauth-m2m/verifier loads its introspection path with the first token introspected, not at import', async () => {
    const loaded = await packageFilesLoadedBy('@oauth-m2m/verifier', BUILDS[0][1])
    expect(loaded).toContain('@oauth-m2m/verifier/src/issuer-entry.ts')
    expect(loaded).not.toContain('@oauth-m2m/verifier/src/introspection.ts')
  })
})
