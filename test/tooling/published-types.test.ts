/**
 * The published `.d.ts` files, as a consumer's compiler sees them: every entry point of every
 * package, resolved through the `types` export condition (the built `dist/`, not the sources),
 * checked with `skipLibCheck: false` against the oldest and the newest `@types/node` the packages
 * accept. With `skipLibCheck` a type that does not exist in the consumer's `@types/node` silently
 * becomes `any`, so only a full check catches it (`JsonWebKey` left `node:crypto` in
 * `@types/node` 25).
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('../../', import.meta.url))
const testPackage = join(root, 'test')
const packages = ['core', 'client', 'verifier', 'server', 'testing', 'redis', 'opentelemetry']

/**
 * `@types/node` releases installed side by side under aliases (see test/package.json): the
 * oldest is the first release of the 20.19 line (the packages' engines say `^20.19.0 || >=22.12.0`),
 * the newest is the current major.
 */
const typesNodeVersions = ['@types/node-oldest', '@types/node-newest']

/** `import type * as m0 from '@oauth-m2m/core'`, … for every entry point of every package. */
function consumerSource(): string {
  const lines: string[] = []
  for (const name of packages) {
    const manifest = JSON.parse(readFileSync(join(root, 'packages', name, 'package.json'), 'utf8')) as {
      name: string
      exports: Record<string, unknown>
    }
    for (const entry of Object.keys(manifest.exports)) {
      const specifier = entry === '.' ? manifest.name : `${manifest.name}/${entry.slice(2)}`
      lines.push(`import type * as m${lines.length} from '${specifier}'`)
    }
  }
  const names = lines.map((_, index) => `m${index}`)
  return `${lines.join('\n')}\nexport type Everything = [${names.map((n) => `typeof ${n}`).join(', ')}]\n`
}

const requireFromTests = createRequire(join(testPackage, 'package.json'))
const tsc = requireFromTests.resolve('typescript/bin/tsc')

let workdir: string

beforeAll(() => {
  // The check runs against the build; `tsc -b` is a no-op when dist/ is current.
  execFileSync(process.execPath, [tsc, '-b'], { cwd: root, stdio: 'pipe' })
  // Inside the e2e package, so that `@oauth-m2m/*` resolve through its node_modules as they
  // would from a consumer's.
  workdir = mkdtempSync(join(testPackage, '.published-types-'))
  writeFileSync(join(workdir, 'consumer.ts'), consumerSource())
}, 120_000)

afterAll(() => {
  if (workdir) rmSync(workdir, { recursive: true, force: true })
})

describe('published type declarations', () => {
  it('cover every entry point of every package', () => {
    const source = consumerSource()
    for (const specifier of ['@oauth-m2m/core', '@oauth-m2m/verifier/express', '@oauth-m2m/testing/msw']) {
      expect(source).toContain(`from '${specifier}'`)
    }
  })

  for (const typesNode of typesNodeVersions) {
    it(`type-check without skipLibCheck under ${typesNode}`, () => {
      const typesDir = dirname(requireFromTests.resolve(`${typesNode}/package.json`))
      const version = (
        JSON.parse(readFileSync(join(typesDir, 'package.json'), 'utf8')) as { version: string }
      ).version
      // A type root of its own, in which `node` is this release: every `/// <reference
      // types="node" />` (ours, undici's, …) resolves here before any other @types/node.
      const typeRoot = join(workdir, `types-${typesNode.split('-').at(-1)}`)
      rmSync(typeRoot, { recursive: true, force: true })
      execFileSync('mkdir', ['-p', typeRoot])
      symlinkSync(typesDir, join(typeRoot, 'node'), 'dir')
      const tsconfig = join(workdir, `tsconfig.${typesNode.split('-').at(-1)}.json`)
      writeFileSync(
        tsconfig,
        JSON.stringify({
          compilerOptions: {
            module: 'nodenext',
            moduleResolution: 'nodenext',
            target: 'es2022',
            strict: true,
            skipLibCheck: false,
            noEmit: true,
            typeRoots: [typeRoot],
            types: ['node'],
          },
          files: ['consumer.ts'],
        }),
      )
      const result = spawnSync(process.execPath, [tsc, '-p', tsconfig], { cwd: workdir, encoding: 'utf8' })
      expect(version, 'the alias installs the intended release').toMatch(/^\d+\.\d+\.\d+$/)
      expect(result.stdout + result.stderr, `tsc with @types/node ${version}`).toBe('')
      expect(result.status).toBe(0)
    }, 120_000)
  }
})
