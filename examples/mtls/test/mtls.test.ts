import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { connect } from '../src/local-setup.js'
import { main } from '../src/main.js'

const root = fileURLToPath(new URL('../../..', import.meta.url))

describe('example: mtls', () => {
  afterEach(() => {
    vi.unstubAllEnvs()
  })

  it('authenticates with its certificate, gets a token bound to it, and the token alone is refused', async () => {
    const outcome = await main()

    expect(outcome.apiStatuses).toEqual([200, 200])
    expect(outcome.caller).toBe('orders-service')
    expect(outcome.boundToCertificate).toBe(true)
    expect(outcome.stolenTokenStatuses).toEqual([401])
  })

  // Starting tsx on the TypeScript sources takes seconds on a loaded machine; the bound is generous.
  it('runs as a script: prints what happened and exits 0 on its own', { timeout: 60_000 }, async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '--conditions=@oauth-m2m/source', 'examples/mtls/src/main.ts'],
      { cwd: root, timeout: 50_000, env: { ...process.env, ISSUER: '' } },
    )

    expect(stdout).toContain('-> 200 (the API saw orders-service)')
    expect(stdout).toMatch(/token bound to certificate thumbprint [A-Za-z0-9_-]{43}/)
    expect(stdout).toContain('the token without the certificate: 401')
  })

  it('uses the servers and certificate files named by the environment', async () => {
    // A deployment stand-in: the local one, reached through the environment as a real one would be.
    const deployment = await connect({})
    const dir = await mkdtemp(join(tmpdir(), 'example-mtls-'))
    try {
      await writeFile(join(dir, 'client.crt'), deployment.cert)
      await writeFile(join(dir, 'client.key'), deployment.key)
      await writeFile(join(dir, 'ca.crt'), deployment.ca ?? '')
      vi.stubEnv('ISSUER', deployment.issuer)
      vi.stubEnv('CLIENT_ID', deployment.clientId)
      vi.stubEnv('CLIENT_CERT', join(dir, 'client.crt'))
      vi.stubEnv('CLIENT_KEY', join(dir, 'client.key'))
      vi.stubEnv('CA_FILE', join(dir, 'ca.crt'))
      vi.stubEnv('API_URL', deployment.apiUrl)
      const outcome = await main()

      expect(outcome.apiStatuses).toEqual([200, 200])
      expect(outcome.boundToCertificate).toBe(true)
    } finally {
      await deployment.close()
      await rm(dir, { recursive: true, force: true })
    }
  })
})
