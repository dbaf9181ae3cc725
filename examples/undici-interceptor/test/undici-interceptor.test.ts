import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { main } from '../src/main.js'

const root = fileURLToPath(new URL('../../..', import.meta.url))

describe('example: undici-interceptor', () => {
  it('adds the token to undici request and fetch through the composed agent, with one token request', async () => {
    const outcome = await main()

    expect(outcome.withoutInterceptor).toBe(401)
    expect(outcome.request).toBe(200)
    expect(outcome.fetch).toBe(200)
    expect(outcome.caller).toBe('reporting-job')
    expect(outcome.tokenRequests).toBe(1)
  })

  it('runs as a script: prints what happened and exits 0 on its own', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '--conditions=@oauth-m2m/source', 'examples/undici-interceptor/src/main.ts'],
      { cwd: root, timeout: 30_000, env: { ...process.env, ISSUER: '' } },
    )

    expect(stdout).toContain('undici.request without the interceptor -> 401')
    expect(stdout).toContain('undici.request through the agent -> 200 (the API saw reporting-job)')
    expect(stdout).toContain('undici.fetch through the agent -> 200')
    expect(stdout).toContain('token requests: 1')
  })
})
