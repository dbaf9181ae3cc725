/**
 * Issue 15 (docs): every package README starts with an install line, and that line installs what
 * the README's first example imports, so a newcomer who copies both has a project that runs; and
 * the README, which npm shows, has no link that only works inside the repository.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { builtinModules } from 'node:module'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('../../', import.meta.url))
const packages = readdirSync(join(root, 'packages')).filter((folder) =>
  existsSync(join(root, 'packages', folder, 'README.md')),
)

/** The package names of the first `npm install` line of a README. */
function installed(readme: string): string[] | undefined {
  const line = /^npm install (.+)$/m.exec(readme)?.[1]
  return line?.split(/\s+/).filter((word) => !word.startsWith('-'))
}

/** The package names of every `npm install` line of a README. */
function installedAnywhere(readme: string): string[] {
  return [...readme.matchAll(/^npm install (.+)$/gm)].flatMap((match) =>
    (match[1] as string).split(/\s+/).filter((word) => !word.startsWith('-')),
  )
}

/** The npm packages the README's first TypeScript example imports. */
function importedByFirstExample(readme: string): string[] {
  return importedBy(/^```(?:ts|typescript)\n([\s\S]*?)^```/m.exec(readme)?.[1] ?? '')
}

/** The npm packages a TypeScript block imports. */
function importedBy(block: string): string[] {
  const specifiers = [...block.matchAll(/\bfrom '([^']+)'/g)].map((match) => match[1] as string)
  return specifiers
    .filter((specifier) => !specifier.startsWith('.') && !specifier.startsWith('node:'))
    .filter((specifier) => !builtinModules.includes(specifier))
    .map((specifier) =>
      specifier
        .split('/')
        .slice(0, specifier.startsWith('@') ? 2 : 1)
        .join('/'),
    )
}

describe.each(packages)('packages/%s/README.md', (folder) => {
  const readme = readFileSync(join(root, 'packages', folder, 'README.md'), 'utf8')
  const { name } = JSON.parse(readFileSync(join(root, 'packages', folder, 'package.json'), 'utf8')) as {
    name: string
  }

  it('has an install line for the package', () => {
    expect(installed(readme)).toContain(name)
  })

  it('links to nothing outside the package, which its npm tarball would not hold', () => {
    expect(readme).not.toMatch(/\]\(\.\.\//)
  })

  it('installs every package its first example imports', () => {
    const line = installed(readme) ?? []
    for (const imported of importedByFirstExample(readme)) expect(line, imported).toContain(imported)
  })
})

describe('packages/testing/README.md, whose examples are test files to copy', () => {
  it('installs, in one of its install lines, every package any of its examples imports', () => {
    const readme = readFileSync(join(root, 'packages', 'testing', 'README.md'), 'utf8')
    const blocks = [...readme.matchAll(/^```(?:ts|typescript)\n([\s\S]*?)^```/gm)].map(
      (match) => match[1] as string,
    )
    expect(blocks.length).toBeGreaterThan(1)
    const lines = installedAnywhere(readme)
    for (const imported of blocks.flatMap(importedBy)) expect(lines, imported).toContain(imported)
  })
})
