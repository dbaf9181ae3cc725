// Fails `pnpm run docs` (and so `check` and CI) when TypeDoc left no API reference behind: a
// reference that silently was not generated once went unnoticed because a pnpm built-in command
// shadowed the script. TypeDoc empties its output folder before writing (cleanOutputDir), so a
// page found here was written by this run.
//
// Usage: node scripts/assert-api-reference.mjs [folder]   (default: docs/api)
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const out = process.argv[2] ?? fileURLToPath(new URL('../docs/api/', import.meta.url))
const missing = ['index.html', 'modules.html'].filter((page) => !existsSync(join(out, page)))
const modulePages = existsSync(join(out, 'modules')) ? readdirSync(join(out, 'modules')).length : 0
if (modulePages === 0) missing.push('modules/*.html')
if (missing.length > 0) {
  console.error(`docs: the API reference was not generated in ${out} (missing: ${missing.join(', ')})`)
  process.exit(1)
}
console.log(`docs: API reference generated (${modulePages} module pages)`)
