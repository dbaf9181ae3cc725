/**
 * Where `m2m-token --cache` keeps tokens: the user's cache directory of the platform, and a
 * directory in it that only this user can enter. Tokens are bearer credentials: a cache anyone
 * else can read, or a directory someone else prepared, would hand them out.
 *
 * @module cli/cache-directory
 */
import { chmod, lstat, mkdir } from 'node:fs/promises'
import { posix, win32 } from 'node:path'
import { CacheError } from './cli-errors.js'

/** Name of the directory, inside the user's cache directory, that holds the tokens. */
export const CACHE_DIRECTORY_NAME = 'oauth-m2m'

/** What the user's cache directory depends on, so that every platform's rule can be tested anywhere. */
export interface CacheDirectoryContext {
  /** `process.platform`. */
  platform: NodeJS.Platform
  /** The environment (`XDG_CACHE_HOME`, `LOCALAPPDATA`). */
  env: Readonly<Record<string, string | undefined>>
  /** The user's home directory (`os.homedir()`); empty when unknown. */
  homedir: string
}

/**
 * The token cache directory: `$XDG_CACHE_HOME/oauth-m2m` (else `~/.cache/oauth-m2m`) on Linux and
 * other Unix systems, `~/Library/Caches/oauth-m2m` on macOS, `%LOCALAPPDATA%\oauth-m2m` (else
 * `~\AppData\Local\oauth-m2m`) on Windows. A relative `XDG_CACHE_HOME` is ignored, as the XDG
 * Base Directory specification says.
 *
 * @throws {CacheError} when no home directory is known to put it in.
 */
export function tokenCacheDirectory({ platform, env, homedir }: CacheDirectoryContext): string {
  const path = platform === 'win32' ? win32 : posix
  const home = (...parts: string[]): string => {
    if (!path.isAbsolute(homedir)) {
      throw new CacheError('no home directory is known to keep the token cache in (set HOME)')
    }
    return path.join(homedir, ...parts, CACHE_DIRECTORY_NAME)
  }
  if (platform === 'win32') {
    const local = env.LOCALAPPDATA
    return local && path.isAbsolute(local) ? path.join(local, CACHE_DIRECTORY_NAME) : home('AppData', 'Local')
  }
  if (platform === 'darwin') return home('Library', 'Caches')
  const xdg = env.XDG_CACHE_HOME
  return xdg && path.isAbsolute(xdg) ? path.join(xdg, CACHE_DIRECTORY_NAME) : home('.cache')
}

/**
 * Creates `directory` (mode 0700, parents as needed) or checks the one that exists: it must be a
 * real directory (not a symbolic link) owned by this user; group and other permissions are
 * removed. On Windows, where the user's profile directory already keeps others out, only its
 * existence is checked.
 *
 * @throws {CacheError} when the directory cannot be created or is not this user's own.
 */
export async function preparePrivateDirectory(directory: string): Promise<void> {
  try {
    await mkdir(directory, { recursive: true, mode: 0o700 })
  } catch (error) {
    throw new CacheError(`cannot create the token cache directory ${directory}: ${reason(error)}`, {
      cause: error,
    })
  }
  const info = await lstat(directory).catch((error: unknown) => {
    throw new CacheError(`cannot read the token cache directory ${directory}: ${reason(error)}`, {
      cause: error,
    })
  })
  if (info.isSymbolicLink()) {
    throw new CacheError(`the token cache directory ${directory} is a symbolic link; remove it`)
  }
  if (!info.isDirectory()) throw new CacheError(`${directory} is not a directory; remove it`)
  if (process.platform === 'win32' || process.getuid === undefined) return
  if (info.uid !== process.getuid()) {
    throw new CacheError(`the token cache directory ${directory} belongs to another user`)
  }
  if ((info.mode & 0o077) !== 0) {
    await chmod(directory, 0o700).catch((error: unknown) => {
      throw new CacheError(`cannot make ${directory} private (mode 0700): ${reason(error)}`, { cause: error })
    })
  }
}

/** What a file system error says (its code, the call and the path: never file contents). */
export function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
