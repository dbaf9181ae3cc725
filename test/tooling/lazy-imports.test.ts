/**
 * Issue 15 ("Light"): importing a package loads only what its common use needs. undici (the
 * largest import of all) is loaded by the first request, jose by the first signature that needs
 * it; the packages whose import path must stay free of them are checked here, in a new `node`
 * process per entry point, on the sources (the built output follows them).
 */
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const run = promisify(execFile)
const root = fileURLToPath(new URL('../../', import.meta.url))
const recorder = fileURLToPath(new URL('./import-fixtures/record-packages.mjs', import.meta.url))

/** The npm packages resolved while importing `specifier` (from the test workspace). */
async function packagesLoadedBy(specifier: string): Promise<string[]> {
  const { stdout } = await run(
    process.execPath,
    [
      '--conditions=@oauth-m2m/source',
      '--import',
      'tsx',
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

describe('what importing an entry point loads', () => {
  it.each([['@oauth-m2m/core'], ['@oauth-m2m/core/internal']])(
    '%s loads neither undici nor jose',
    async (specifier) => {
      const loaded = await packagesLoadedBy(specifier)
      expect(loaded).not.toContain('undici')
      expect(loaded).not.toContain('jose')
    },
  )

  it('the mutual-TLS dispatcher entry loads undici (the recorder sees what is loaded)', async () => {
    expect(await packagesLoadedBy('@oauth-m2m/core/internal/tls')).toContain('undici')
  })
})
