import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { packageVersion } from '../src/package-version.js'

describe('packageVersion', () => {
  let folder: string
  beforeEach(async () => {
    folder = await mkdtemp(join(tmpdir(), 'package-version-'))
  })
  afterEach(() => rm(folder, { recursive: true, force: true }))

  async function manifest(content: string): Promise<URL> {
    const path = join(folder, 'package.json')
    await writeFile(path, content)
    return pathToFileURL(path)
  }

  it("reads the version of the named package's manifest", async () => {
    const url = await manifest(JSON.stringify({ name: '@oauth-m2m/example', version: '1.2.3-rc.1' }))
    await expect(packageVersion(url, '@oauth-m2m/example')).resolves.toBe('1.2.3-rc.1')
  })

  it("refuses another package's manifest rather than print a wrong version", async () => {
    const url = await manifest(JSON.stringify({ name: 'someone-else', version: '9.9.9' }))
    await expect(packageVersion(url, '@oauth-m2m/example')).rejects.toThrow(
      /package\.json is not the manifest of @oauth-m2m\/example/,
    )
  })

  it('refuses a manifest without a version string', async () => {
    const url = await manifest(JSON.stringify({ name: '@oauth-m2m/example', version: 1 }))
    await expect(packageVersion(url, '@oauth-m2m/example')).rejects.toThrow(/is not the manifest/)
  })

  it("reads the workspace's own core manifest from a URL relative to a module", async () => {
    const core = new URL('../package.json', import.meta.url)
    await expect(packageVersion(core, '@oauth-m2m/core')).resolves.toMatch(/^\d+\.\d+\.\d+/)
  })
})
