/**
 * One vocabulary across the packages: the names every package shares are checked here, over the
 * public exports and the sources, so that a new feature cannot drift from them unnoticed.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { CLIENT_CHANNELS } from '@oauth-m2m/client'
import { JWKS_ERROR_CHANNEL, JWKS_FETCH_CHANNEL } from '@oauth-m2m/core'
import { INTROSPECTION_CHANNEL, REJECTION_CHANNEL } from '@oauth-m2m/verifier'
import { describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('../../', import.meta.url))
const PACKAGES = ['core', 'client', 'verifier', 'server', 'testing'] as const

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return sourceFiles(path)
    return path.endsWith('.ts') ? [path] : []
  })
}

const sources = PACKAGES.flatMap((pkg) =>
  sourceFiles(join(root, 'packages', pkg, 'src')).map((path) => ({
    pkg,
    path: relative(root, path),
    text: readFileSync(path, 'utf8'),
  })),
)

describe('diagnostics channels', () => {
  it('exported names follow oauth-m2m:<package>:<event>, each under its own package', () => {
    const exported: Record<string, readonly string[]> = {
      core: [JWKS_FETCH_CHANNEL, JWKS_ERROR_CHANNEL],
      client: Object.values(CLIENT_CHANNELS),
      verifier: [INTROSPECTION_CHANNEL, REJECTION_CHANNEL],
    }
    for (const [pkg, names] of Object.entries(exported)) {
      expect(names.length, pkg).toBeGreaterThan(0)
      for (const name of names) expect(name).toMatch(new RegExp(`^oauth-m2m:${pkg}:[a-z]+(?::[a-z]+)*$`))
    }
  })

  it('every channel name written in a source follows the scheme of its package', () => {
    const names = sources.flatMap(({ pkg, path, text }) =>
      [...text.matchAll(/'(oauth-m2m:[^']*)'/g)].map((match) => ({ pkg, path, name: match[1] as string })),
    )
    expect(names.length).toBeGreaterThan(0)
    const offScheme = names.filter(
      ({ pkg, name }) => !new RegExp(`^oauth-m2m:${pkg}:[a-z]+(?::[a-z]+)*$`).test(name),
    )
    expect(offScheme).toEqual([])
  })
})

describe('option names', () => {
  // clockToleranceSec is the one word for accepted clock differences, expiryMarginSec for "treat
  // as expired this early"; the names they replaced must not come back.
  // The tables that refuse the old names with a message naming the new ones may still mention
  // them; no option is declared or read under them.
  it('use clockToleranceSec and expiryMarginSec: no option is declared or read as clockSkew…', () => {
    const declaredOrRead = /\bclockSkew\w*\??\s*:\s*(number|string|boolean)\b|\.clockSkew\w*/
    const stale = sources.filter(({ text }) => declaredOrRead.test(text)).map(({ path }) => path)
    expect(stale).toEqual([])
  })
})
