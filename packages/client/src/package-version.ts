/**
 * The version `m2m-token --version` prints: read from the package's own `package.json` when asked,
 * so that it is the version installed, whether the CLI runs from `src/` (tests), from `dist/` in
 * the workspace, or from an installed tarball (`node_modules/@oauth-m2m/client/dist/`). This
 * module sits at the top of `src/`, and its code in a top-level file of `dist/` (the build bundles
 * it into the command's entry or a chunk beside it), so both are one level below the package
 * root, beside `package.json`, which every tarball holds.
 *
 * @module package-version
 */
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'

const MANIFEST = new URL('../package.json', import.meta.url)
const PACKAGE_NAME = '@oauth-m2m/client'

/**
 * The `version` of `@oauth-m2m/client`'s `package.json`.
 *
 * @throws {Error} when the file found there is not that package's manifest (the CLI was copied
 *   out of its package): a wrong version is worse than none.
 */
export async function packageVersion(): Promise<string> {
  const manifest = JSON.parse(await readFile(MANIFEST, 'utf8')) as { name?: unknown; version?: unknown }
  if (manifest.name !== PACKAGE_NAME || typeof manifest.version !== 'string') {
    throw new Error(`${fileURLToPath(MANIFEST)} is not the manifest of ${PACKAGE_NAME}`)
  }
  return manifest.version
}
