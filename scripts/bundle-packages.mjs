// The JavaScript half of the build: `tsc -b` type-checks and writes only declarations
// (dist/**/*.d.ts), then this script writes each package's JavaScript with esbuild, one file per
// entry point (every `exports` target and every command of `bin`) plus the chunks they share.
//
// Why bundle: importing a package costs one resolution, file read and compile per module, and
// ours had 20 to 150 of them per entry point, most of the import time the footprint bench
// measured (issue 15). Bundling keeps what import time is really for: dependencies stay
// external (one copy of jose, undici and the sibling @oauth-m2m packages in a user's tree), the
// `await import('./…')` that keeps rarely used code off the import path still load it as chunks
// of their own, and one bundle per package keeps classes (errors above all) one class across its
// entry points.
//
// Usage: `node scripts/bundle-packages.mjs [package folder …]` (all of packages/* without one).
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const folders = process.argv.slice(2)
const packageDirs =
  folders.length > 0
    ? folders.map((folder) => resolve(folder))
    : readdirSync(join(repoRoot, 'packages'), { withFileTypes: true })
        .filter((entry) => entry.isDirectory())
        .map((entry) => join(repoRoot, 'packages', entry.name))

/** The bin shims import the command's built module: `import '../dist/cli.js'`. */
const BIN_TARGET = /^import '\.\.\/(dist\/[\w/-]+\.js)'$/m

/** `./dist/a/b.js` → `src/a/b.ts`, the module esbuild starts from. */
function sourceOfOutput(packageDir, output) {
  const path = relative(packageDir, resolve(packageDir, output))
  if (!/^dist\/.+\.js$/.test(path)) throw new Error(`${packageDir}: ${output} is not under dist/`)
  return join(packageDir, path.replace(/^dist\//, 'src/').replace(/\.js$/, '.ts'))
}

function entryPoints(packageDir) {
  const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8'))
  const outputs = Object.values(manifest.exports ?? {}).map((conditions) => conditions.default)
  for (const shim of Object.values(manifest.bin ?? {})) {
    const target = readFileSync(join(packageDir, shim), 'utf8').match(BIN_TARGET)?.[1]
    if (target === undefined) throw new Error(`${packageDir}: ${shim} imports no dist/ module`)
    outputs.push(target)
  }
  return [...new Set(outputs)].map((output) => sourceOfOutput(packageDir, output))
}

/** Earlier JavaScript outputs, so that a chunk or module that no longer exists is not shipped. */
function removeJavaScript(dist) {
  if (!existsSync(dist)) return
  for (const entry of readdirSync(dist, { recursive: true, withFileTypes: true })) {
    if (entry.isFile() && /\.js(\.map)?$/.test(entry.name)) rmSync(join(entry.parentPath, entry.name))
  }
}

for (const packageDir of packageDirs) {
  const dist = join(packageDir, 'dist')
  removeJavaScript(dist)
  const result = await build({
    absWorkingDir: packageDir,
    entryPoints: entryPoints(packageDir),
    outbase: 'src',
    outdir: 'dist',
    // Chunks sit beside the top-level entries, so a module's `new URL('../package.json',
    // import.meta.url)` finds the manifest from src/ (tests) and from dist/ alike.
    entryNames: '[dir]/[name]',
    chunkNames: '[name]-[hash]',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20.19',
    packages: 'external',
    // Error classes name themselves with `new.target.name`; bundling may rename a class whose
    // name another module also uses.
    keepNames: true,
    // The maps point into src/, which the packages ship.
    sourcemap: 'linked',
    sourcesContent: false,
    logLevel: 'silent',
  })
  if (result.warnings.length > 0) {
    for (const warning of result.warnings) process.stderr.write(`${warning.text}\n`)
    throw new Error(`${relative(repoRoot, packageDir)}: esbuild warned; treat it as an error`)
  }
}
