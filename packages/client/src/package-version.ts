/**
 * The version `m2m-token --version` prints, from `@oauth-m2m/client`'s own `package.json`. This
 * module sits at the top of `src/` so that `'../package.json'` is the package's manifest from
 * `src/` (tests) and from the top-level file of `dist/` the build bundles it into alike.
 *
 * @module package-version
 */
import { packageVersion as manifestVersion } from '@oauth-m2m/core/internal'

/** The installed version of `@oauth-m2m/client`. */
export function packageVersion(): Promise<string> {
  return manifestVersion(new URL('../package.json', import.meta.url), '@oauth-m2m/client')
}
