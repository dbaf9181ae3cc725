/** Where `m2m-token --cache` keeps tokens, on each platform. */
import { describe, expect, it } from 'vitest'
import { tokenCacheDirectory } from '../src/cli/cache-directory.js'
import { CacheError } from '../src/cli/cli-errors.js'

describe('tokenCacheDirectory', () => {
  it.each<[NodeJS.Platform, Record<string, string>, string, string]>([
    ['linux', { XDG_CACHE_HOME: '/var/cache/me' }, '/home/me', '/var/cache/me/oauth-m2m'],
    ['linux', {}, '/home/me', '/home/me/.cache/oauth-m2m'],
    ['linux', { XDG_CACHE_HOME: '' }, '/home/me', '/home/me/.cache/oauth-m2m'],
    ['linux', { XDG_CACHE_HOME: 'relative/cache' }, '/home/me', '/home/me/.cache/oauth-m2m'],
    ['freebsd', { XDG_CACHE_HOME: '/xdg' }, '/home/me', '/xdg/oauth-m2m'],
    ['darwin', { XDG_CACHE_HOME: '/xdg' }, '/Users/me', '/Users/me/Library/Caches/oauth-m2m'],
    [
      'win32',
      { LOCALAPPDATA: 'C:\\Users\\me\\AppData\\Local' },
      'C:\\Users\\me',
      'C:\\Users\\me\\AppData\\Local\\oauth-m2m',
    ],
    ['win32', {}, 'C:\\Users\\me', 'C:\\Users\\me\\AppData\\Local\\oauth-m2m'],
  ])('on %s with %j and home %s: %s', (platform, env, homedir, expected) => {
    expect(tokenCacheDirectory({ platform, env, homedir })).toBe(expected)
  })

  it('refuses to guess without a home directory', () => {
    expect(() => tokenCacheDirectory({ platform: 'linux', env: {}, homedir: '' })).toThrow(CacheError)
    expect(() => tokenCacheDirectory({ platform: 'darwin', env: {}, homedir: 'relative' })).toThrow(
      /no home directory is known/,
    )
  })
})
