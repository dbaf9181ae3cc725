// Every package's `prepack`: runs before `pnpm pack` and `pnpm publish` (and so before
// `changeset publish`, which calls `pnpm publish`) in the package's folder.
//
// 1. Refuses any packer but pnpm. The manifests name their sibling packages as `workspace:*`;
//    pnpm rewrites those ranges to the sibling's version in the packed package.json, npm and yarn 1
//    would ship them as they are, and the published package could not be installed.
// 2. Builds (`tsc -b`, which writes the declarations and builds the referenced packages first,
//    then scripts/bundle-packages.mjs for the JavaScript), so a fresh checkout never packs an
//    empty or missing dist/.
// 3. Deletes declarations in dist/ whose source in src/ no longer exists: `tsc -b` never removes
//    the output of a deleted module, and a stale dist/ would ship it. (The bundler clears the
//    JavaScript itself.)
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join, relative } from 'node:path'

const packageDir = process.cwd()
const userAgent = process.env.npm_config_user_agent ?? ''

if (!userAgent.startsWith('pnpm/')) {
  const packer = userAgent.split(' ')[0] || 'this tool'
  process.stderr.write(
    `prepack: refusing to pack with ${packer}. Use \`pnpm pack\` or \`pnpm publish\` (for a release: ` +
      '`pnpm run release`): only pnpm rewrites the `workspace:` ranges of the dependencies on the ' +
      'other @oauth-m2m packages into versions.\n',
  )
  process.exit(1)
}

const tsc = createRequire(join(packageDir, 'package.json')).resolve('typescript/bin/tsc')
const build = spawnSync(process.execPath, [tsc, '-b'], { cwd: packageDir, stdio: 'inherit' })
if (build.status !== 0) {
  process.stderr.write(`prepack: the build failed (tsc -b exited with ${build.status ?? build.signal})\n`)
  process.exit(1)
}
const bundler = join(import.meta.dirname, 'bundle-packages.mjs')
const bundle = spawnSync(process.execPath, [bundler, packageDir], { stdio: 'inherit' })
if (bundle.status !== 0) {
  process.stderr.write(`prepack: bundling failed (exited with ${bundle.status ?? bundle.signal})\n`)
  process.exit(1)
}

/** `dist/a/b.d.ts`, `.d.ts.map` → `src/a/b.ts` (the bundler's `.js` outputs are its own). */
function sourceOf(output) {
  const stem = output.replace(/(\.d\.ts\.map|\.d\.ts)$/, '')
  return stem === output ? undefined : join(packageDir, 'src', `${stem}.ts`)
}

const dist = join(packageDir, 'dist')
const removed = []
for (const entry of readdirSync(dist, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile()) continue
  const output = relative(dist, join(entry.parentPath, entry.name))
  const source = sourceOf(output)
  if (source !== undefined && !existsSync(source)) {
    rmSync(join(dist, output))
    removed.push(output)
  }
}
if (removed.length > 0) {
  process.stderr.write(
    `prepack: removed ${removed.length} stale output(s) of deleted sources: ${removed.join(', ')}\n`,
  )
}
