// Fails `pnpm run docs` (and so `check` and CI) when TypeDoc left no API reference behind: a
// reference that silently was not generated once went unnoticed because a pnpm built-in command
// shadowed the script. TypeDoc empties its output folder before writing (cleanOutputDir), so a
// page found here was written by this run.
//
// Usage: node scripts/assert-api-reference.mjs [folder]   (default: docs/api)
import { existsSync, readdirSync, readFileSync } from 'node:fs'
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
// Every entry point is named in the sidebar: a package with several entry points whose index has no
// `@module` tag gets a page named `<package>..html` and a blank row.
const blank = readdirSync(join(out, 'modules')).filter((page) => page.endsWith('..html'))
if (blank.length > 0) {
  console.error(`docs: entry points without a name (add @module to their index): ${blank.join(', ')}`)
  process.exit(1)
}
// Every public entry point has a page: `<package>.html` (or `<package>.<package>.html` when the
// package has several) for `.`, and `<package>.<name>.html` for `./<name>`. The internal ones are
// left out on purpose (`@internal`).
const slug = (name) => name.replace(/^@/, '_').replace('/', '_')
const pages = new Set(readdirSync(join(out, 'modules')))
const packagesDir = fileURLToPath(new URL('../packages/', import.meta.url))
const withoutPage = []
for (const folder of readdirSync(packagesDir)) {
  const manifestPath = join(packagesDir, folder, 'package.json')
  if (!existsSync(manifestPath)) continue
  const { name, exports } = JSON.parse(readFileSync(manifestPath, 'utf8'))
  for (const subpath of Object.keys(exports ?? {})) {
    if (subpath.startsWith('./internal') || subpath === './package.json') continue
    const expected =
      subpath === '.'
        ? [`${slug(name)}.html`, `${slug(name)}.${slug(name)}.html`]
        : [`${slug(name)}.${subpath.slice(2).replaceAll('/', '.')}.html`]
    if (!expected.some((page) => pages.has(page))) withoutPage.push(`${name}${subpath.slice(1)}`)
  }
}
if (withoutPage.length > 0) {
  console.error(`docs: public entry points without a page: ${withoutPage.join(', ')}`)
  process.exit(1)
}
// The examples' READMEs render as pages (typedoc.json projectDocuments).
const examples = readdirSync(fileURLToPath(new URL('../examples/', import.meta.url)), { withFileTypes: true })
  .filter(
    (entry) =>
      entry.isDirectory() &&
      existsSync(fileURLToPath(new URL(`../examples/${entry.name}/README.md`, import.meta.url))),
  )
  .map((entry) => entry.name)
const documents = existsSync(join(out, 'documents')) ? readdirSync(join(out, 'documents')) : []
const unrendered = examples.filter((name) => !documents.includes(`${name}_README.html`))
if (unrendered.length > 0) {
  console.error(`docs: example READMEs not rendered as pages: ${unrendered.join(', ')}`)
  process.exit(1)
}
console.log(`docs: API reference generated (${modulePages} module pages, ${examples.length} example pages)`)
