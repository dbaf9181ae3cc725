import { readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const src = resolve(dirname(fileURLToPath(import.meta.url)), '../src')

/** Every bare module a source file pulls in, following relative imports through the package. */
function bareImports(entry: string): Set<string> {
  const seen = new Set<string>()
  const bare = new Set<string>()
  const visit = (file: string) => {
    if (seen.has(file)) return
    seen.add(file)
    const text = readFileSync(file, 'utf8')
    for (const [, spec] of text.matchAll(/^(?:import|export)\s(?!type\b)[^'"]*?from\s+'([^']+)'/gm)) {
      if (spec!.startsWith('.')) visit(resolve(dirname(file), spec!.replace(/\.js$/, '.ts')))
      else bare.add(spec!)
    }
  }
  visit(resolve(src, entry))
  return bare
}

describe('entry points', () => {
  it('loads @oauth-m2m/testing without msw, an optional peer dependency', () => {
    const imports = [...bareImports('index.ts')]
    expect(imports.filter((m) => m === 'msw' || m.startsWith('msw/'))).toEqual([])
    expect(imports).toContain('@oauth-m2m/server')
  })

  it('keeps everything that needs msw behind @oauth-m2m/testing/msw', () => {
    expect(bareImports('msw.ts')).toContain('msw')
  })
})
