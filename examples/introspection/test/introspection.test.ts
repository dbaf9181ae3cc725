import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { createAuthorizationServer } from '@oauth-m2m/server'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { main } from '../src/main.js'

const root = fileURLToPath(new URL('../../..', import.meta.url))

describe('example: introspection', () => {
  afterEach(() => {
    vi.unstubAllEnvs()
  })

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

  // Starting tsx on the TypeScript sources takes seconds on a loaded machine; the bound is generous.
  it('runs as a script: prints what happened and exits 0 on its own', { timeout: 60_000 }, async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '--conditions=@oauth-m2m/source', 'examples/introspection/src/main.ts'],
      { cwd: root, timeout: 50_000, env: { ...process.env, ISSUER: '' } },
    )

    expect(stdout).toContain("the caller's token is opaque")
    expect(stdout).toContain(
      'POST /charges -> 200: checkout-service with billing:charge, checked by introspection',
    )
    expect(stdout).toContain('introspection calls for 3 requests: 1')
    expect(stdout).toContain('POST /charges with a token nobody issued -> 401')
  })

  it('uses the authorization server, audience and both registrations named by the environment', async () => {
    const server = await createAuthorizationServer({
      clients: [
        { client_id: 'env-api', client_secret: 'env-api-secret' },
        { client_id: 'env-caller', client_secret: 'env-caller-secret', scope: 'billing:charge' },
      ],
      resources: [{ resource: 'https://billing.env.example', tokenFormat: 'opaque' }],
    })
    const { url, close } = await server.listen({ port: 0, host: '127.0.0.1' })
    vi.stubEnv('ISSUER', url)
    vi.stubEnv('AUDIENCE', 'https://billing.env.example')
    vi.stubEnv('API_CLIENT_ID', 'env-api')
    vi.stubEnv('API_CLIENT_SECRET', 'env-api-secret')
    vi.stubEnv('CLIENT_ID', 'env-caller')
    vi.stubEnv('CLIENT_SECRET', 'env-caller-secret')
    try {
      const outcome = await main()

      expect(outcome.withToken[0]).toMatchObject({ status: 200, body: { caller: 'env-caller' } })
      expect(outcome.introspections).toBe(1)
    } finally {
      await close()
    }
  })
})
