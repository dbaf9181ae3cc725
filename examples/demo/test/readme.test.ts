import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

// The quickstart snippets live in ./readme-snippets, where `pnpm typecheck` compiles them against
// the packages' current API; this suite keeps the root README's copies identical to them.
const ROOT = new URL('../../../', import.meta.url)
const SNIPPETS = new URL('./readme-snippets/', import.meta.url)
const readme = readFileSync(new URL('README.md', ROOT), 'utf8')

describe('root README', () => {
  it.each(readdirSync(SNIPPETS).filter((f) => f.endsWith('.ts')))(
    'shows %s exactly as it compiles',
    (file) => {
      const snippet = readFileSync(new URL(file, SNIPPETS), 'utf8').trimEnd()
      expect(readme).toContain(`\`\`\`ts\n${snippet}\n\`\`\``)
    },
  )

  it('gives the two commands, demo and check, both installing with the frozen lockfile', () => {
    expect(readme).toContain('npx -y pnpm@10 install --frozen-lockfile && npx -y pnpm@10 demo\n')
    expect(readme).toContain('npx -y pnpm@10 install --frozen-lockfile && npx -y pnpm@10 check\n')
    const scripts = JSON.parse(readFileSync(new URL('package.json', ROOT), 'utf8')).scripts
    expect(Object.keys(scripts)).toEqual(expect.arrayContaining(['demo', 'check', 'bench', 'docs']))
  })

  it('links only to files and folders that exist', () => {
    const links = [...readme.matchAll(/\]\(([^)#]+)\)/g)].map((m) => m[1]!).filter((l) => !/^[a-z]+:/.test(l))
    expect(links.length).toBeGreaterThan(3)
    for (const link of links) expect(existsSync(fileURLToPath(new URL(link, ROOT))), link).toBe(true)
  })
})
