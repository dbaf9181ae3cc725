import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { main } from '../src/main.js'

const root = fileURLToPath(new URL('../../..', import.meta.url))

describe('example: cron-job', () => {
  it('gets one token and makes its one call', async () => {
    const outcome = await main()

    expect(outcome.status).toBe(201)
    expect(outcome.scope).toBe('reports:write')
    expect(outcome.tokenRequests).toBe(1)
  })

  it('as a script, exits 0 by itself once the job is done (no process.exit, nothing left running)', async () => {
    // execFile rejects on a non-zero exit and kills the child at the timeout: resolving means
    // the process ended on its own, with exit code 0.
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '--conditions=@oauth-m2m/source', 'examples/cron-job/src/main.ts'],
      { cwd: root, timeout: 30_000, env: { ...process.env, ISSUER: '' } },
    )

    expect(stdout).toMatch(/got a token for scope "reports:write", valid until \d{4}-/)
    expect(stdout).toMatch(/POST http:\/\/127\.0\.0\.1:\d+ -> 201/)
    expect(stdout).toContain('token requests: 1')
  })
})
