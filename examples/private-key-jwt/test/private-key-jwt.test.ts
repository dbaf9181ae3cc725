import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { main } from '../src/main.js'

const root = fileURLToPath(new URL('../../..', import.meta.url))

describe('example: private-key-jwt', () => {
  it('gets a server-signed token with the registered key, and is refused with any other key', async () => {
    const outcome = await main()

    expect(outcome.tokenClientId).toBe('ledger-service')
    expect(outcome.unknownKeyError).toBe('invalid_client')
  })

  it('runs as a script: prints what happened and exits 0 on its own', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '--conditions=@oauth-m2m/source', 'examples/private-key-jwt/src/main.ts'],
      { cwd: root, timeout: 30_000, env: { ...process.env, ISSUER: '' } },
    )

    expect(stdout).toContain('registered ledger-service with public key ledger-2026-01')
    expect(stdout).toContain('registered key: got a token for client_id ledger-service, scope "ledger:read"')
    expect(stdout).toContain('unregistered key: refused with invalid_client')
    expect(stdout).not.toContain('"d":')
  })
})
