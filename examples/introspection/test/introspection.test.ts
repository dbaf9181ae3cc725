import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { main } from '../src/main.js'

const root = fileURLToPath(new URL('../../..', import.meta.url))

describe('example: introspection', () => {
  it('accepts the opaque token through one introspection call, and refuses a token nobody issued', async () => {
    const outcome = await main()

    expect(outcome.tokenIsJwt).toBe(false)
    expect(outcome.withToken).toHaveLength(3)
    for (const call of outcome.withToken) {
      expect(call).toEqual({
        status: 200,
        body: { caller: 'checkout-service', scopes: ['billing:charge'], checkedBy: 'introspection' },
      })
    }
    expect(outcome.introspections).toBe(1)
    expect(outcome.withUnknownToken.status).toBe(401)
    expect(outcome.withUnknownToken.challenge).toContain('error="invalid_token"')
  })

  it('runs as a script: prints what happened and exits 0 on its own', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '--conditions=@oauth-m2m/source', 'examples/introspection/src/main.ts'],
      { cwd: root, timeout: 30_000, env: { ...process.env, ISSUER: '' } },
    )

    expect(stdout).toContain("the caller's token is opaque")
    expect(stdout).toContain(
      'POST /charges -> 200: checkout-service with billing:charge, checked by introspection',
    )
    expect(stdout).toContain('introspection calls for 3 requests: 1')
    expect(stdout).toContain('POST /charges with a token nobody issued -> 401')
  })
})
