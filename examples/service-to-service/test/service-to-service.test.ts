import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { main } from '../src/main.js'

const root = fileURLToPath(new URL('../../..', import.meta.url))

describe('example: service-to-service', () => {
  it('calls the API three times with one token, and never sends it to another origin', async () => {
    const outcome = await main()

    expect(outcome.apiStatuses).toEqual([200, 200, 200])
    expect(outcome.caller).toBe('checkout-service')
    expect(outcome.tokenRequests).toBe(1)
    expect(outcome.thirdPartySawToken).toBe(false)
  })

  it('runs as a script: prints what happened and exits 0 on its own', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '--conditions=@oauth-m2m/source', 'examples/service-to-service/src/main.ts'],
      { cwd: root, timeout: 30_000, env: { ...process.env, ISSUER: '' } },
    )

    expect(stdout).toContain('-> 200 (the API saw checkout-service)')
    expect(stdout).toContain('third-party service received a token: false')
    expect(stdout).toContain('token requests for 3 API calls: 1')
  })
})
