import { access, readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const PACKAGE = new URL('../../', import.meta.url)

describe('the m2m-test-server bin', () => {
  it('is a published shim that loads the compiled src/cli/m2m-test-server.ts', async () => {
    const manifest = JSON.parse(await readFile(new URL('package.json', PACKAGE), 'utf8')) as {
      bin: Record<string, string>
      files: string[]
    }
    const shim = manifest.bin['m2m-test-server']
    expect(shim).toBe('./bin/m2m-test-server.js')
    expect(manifest.files).toContain('bin')
    const text = await readFile(new URL(shim!, PACKAGE), 'utf8')
    expect(text.startsWith('#!/usr/bin/env node\n')).toBe(true)
    const target = /^import '\.\.\/dist\/(.+)\.js'$/m.exec(text)?.[1]
    // tsconfig compiles src/ into dist/: the module the shim loads is this source file.
    expect(target).toBe('cli/m2m-test-server')
    await access(fileURLToPath(new URL(`src/${target}.ts`, PACKAGE)))
  })
})
