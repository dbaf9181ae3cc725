/**
 * The version a package's CLI prints with `--version`, read from its own `package.json` when
 * asked, so that it is the version installed, whether the CLI runs from `src/` (tests), from
 * `dist/` in the workspace or from an installed tarball.
 *
 * @module package-version
 */
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'

/**
 * The `version` of the manifest at `manifestUrl`, which must be `packageName`'s.
 *
 * The caller computes `manifestUrl` from its own `import.meta.url`
 * (`new URL('../package.json', import.meta.url)` from a top-level module of `src/`), because the
 * build bundles that module into a top-level file of `dist/`: both sit one level below the package
 * root, beside `package.json`, which every tarball holds.
 *
 * @throws {Error} when the file found there is not that package's manifest (the CLI was copied out
 *   of its package): a wrong version is worse than none.
 */
export async function packageVersion(manifestUrl: URL, packageName: string): Promise<string> {
  const manifest = JSON.parse(await readFile(manifestUrl, 'utf8')) as { name?: unknown; version?: unknown }
  if (manifest.name !== packageName || typeof manifest.version !== 'string') {
    throw new Error(`${fileURLToPath(manifestUrl)} is not the manifest of ${packageName}`)
  }
  return manifest.version
}
