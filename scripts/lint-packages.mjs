// `pnpm run lint:packages`: packs every published package with pnpm (as `pnpm publish` would:
// prepack builds, `workspace:` ranges become versions) and lints the tarballs, not the folders:
// publint (manifest, exports, files; warnings are errors) and Are the Types Wrong with the
// ESM-only profile (types resolve under node16 from ESM and bundler; CommonJS `require` and the
// node10 resolution are out of scope for an ESM-only package, see the READMEs' CommonJS section).
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const bin = (name) => join(root, 'node_modules', '.bin', name)

const packageDirs = readdirSync(join(root, 'packages'))
  .map((name) => join(root, 'packages', name))
  .filter((dir) => {
    try {
      return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).private !== true
    } catch {
      return false
    }
  })

/** Runs a command; returns whether it exited 0. A quiet one's output is shown only if it failed. */
function run(command, args, cwd, { quiet = false } = {}) {
  const result = spawnSync(command, args, { cwd, stdio: quiet ? 'pipe' : 'inherit', encoding: 'utf8' })
  if (result.error) throw result.error
  if (quiet && result.status !== 0) process.stderr.write(`${result.stdout}${result.stderr}`)
  return result.status === 0
}

const destination = mkdtempSync(join(tmpdir(), 'oauth-m2m-lint-packages-'))
const failures = []
try {
  for (const dir of packageDirs) {
    if (!run('pnpm', ['pack', '--pack-destination', destination], dir, { quiet: true }))
      failures.push(`pnpm pack in ${dir}`)
  }
  for (const tarball of readdirSync(destination).filter((name) => name.endsWith('.tgz'))) {
    const path = join(destination, tarball)
    if (!run(bin('publint'), ['run', path, '--strict'], root)) failures.push(`publint ${tarball}`)
    if (!run(bin('attw'), [path, '--profile', 'esm-only', '--format', 'ascii'], root))
      failures.push(`attw ${tarball}`)
  }
} finally {
  rmSync(destination, { recursive: true, force: true })
}

if (failures.length > 0) {
  process.stderr.write(`lint:packages failed: ${failures.join('; ')}\n`)
  process.exit(1)
}
process.stdout.write(`lint:packages: ${packageDirs.length} packages packed, publint and attw clean\n`)
