import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { CliError } from '../src/cli-error.js'
import { loadRedisPackage, readKeyEncryptionKey } from '../src/cli-redis.js'
import { tempDir } from './cli-harness.js'

const KEY = Buffer.alloc(32, 7).toString('base64url')

describe('the key-encryption key of --redis', () => {
  it('comes from the file (its final newline ignored), else from the environment variable', async () => {
    const file = join(await tempDir(), 'kek')
    await writeFile(file, `${KEY}\n`)
    await expect(readKeyEncryptionKey(file, { KEK: 'ignored' }, 'KEK')).resolves.toBe(KEY)
    await expect(readKeyEncryptionKey(undefined, { KEK: KEY }, 'KEK')).resolves.toBe(KEY)
  })

  it('is required (usage error), and must be 32 bytes base64url; the value is never repeated', async () => {
    await expect(readKeyEncryptionKey(undefined, {}, 'KEK')).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringContaining('--key-encryption-key-file FILE or KEK'),
    })
    for (const bad of [
      'short-secret-value',
      `${KEY}x`,
      Buffer.alloc(31).toString('base64url'),
      `${KEY.slice(0, 42)}+`,
    ]) {
      const failure = await readKeyEncryptionKey(undefined, { KEK: bad }, 'KEK').catch((e: unknown) => e)
      expect(failure).toBeInstanceOf(CliError)
      expect((failure as CliError).message).toMatch(/^KEK must hold 32 random bytes, base64url-encoded/)
      expect((failure as CliError).message).not.toContain(bad)
    }
    const missing = join(await tempDir(), 'nope')
    await expect(readKeyEncryptionKey(missing, {}, 'KEK')).rejects.toThrow(
      `cannot read key-encryption key file ${missing} (ENOENT)`,
    )
  })
})

describe('loading @oauth-m2m/redis', () => {
  it('says in one line how to install it when it is missing', async () => {
    await expect(loadRedisPackage('@oauth-m2m/redis-not-installed')).rejects.toThrow(
      new CliError(
        '--redis needs the @oauth-m2m/redis-not-installed package: npm install @oauth-m2m/redis-not-installed',
      ),
    )
  })
})
