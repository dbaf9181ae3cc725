import { execFile } from 'node:child_process'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { createAuthorizationServer } from '@oauth-m2m/server'
import { createVerifier } from '@oauth-m2m/verifier'
import { bearerAuth } from '@oauth-m2m/verifier/node'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { main } from '../src/main.js'

const root = fileURLToPath(new URL('../../..', import.meta.url))

/** A real deployment stand-in: the reference server and an API accepting its tokens for `scope`. */
async function startDeployment(clientId: string, secret: string, scope: string) {
  const api = createServer((req, res) => auth(req, res, () => res.end('{"caller":"from-env-api"}')))
  await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve))
  const apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`
  const server = await createAuthorizationServer({
    clients: [{ client_id: clientId, client_secret: secret, scope }],
    resources: [{ resource: apiUrl }],
  })
  const { url: issuer, close } = await server.listen({ port: 0, host: '127.0.0.1' })
  const verifier = createVerifier({ issuer, audience: apiUrl })
  const auth = bearerAuth({ verifier, requiredScopes: [scope] })
  return {
    issuer,
    apiUrl,
    async close() {
      await new Promise<void>((resolve) => {
        api.close(() => resolve())
        api.closeIdleConnections()
      })
      await verifier.close()
      await close()
    },
  }
}

describe('example: undici-interceptor', () => {
  afterEach(() => {
    vi.unstubAllEnvs()
  })

  it('adds the token to undici request and fetch through the composed agent, with one token request', async () => {
    const outcome = await main()

    expect(outcome.withoutInterceptor).toBe(401)
    expect(outcome.request).toBe(200)
    expect(outcome.fetch).toBe(200)
    expect(outcome.caller).toBe('reporting-job')
    expect(outcome.tokenRequests).toBe(1)
  })

  // Starting tsx on the TypeScript sources takes seconds on a loaded machine; the bound is generous.
  it('runs as a script: prints what happened and exits 0 on its own', { timeout: 60_000 }, async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '--conditions=@oauth-m2m/source', 'examples/undici-interceptor/src/main.ts'],
      { cwd: root, timeout: 50_000, env: { ...process.env, ISSUER: '' } },
    )

    expect(stdout).toContain('undici.request without the interceptor -> 401')
    expect(stdout).toContain('undici.request through the agent -> 200 (the API saw reporting-job)')
    expect(stdout).toContain('undici.fetch through the agent -> 200')
    expect(stdout).toContain('token requests: 1')
  })

  it('uses the authorization server, client and API named by the environment', async () => {
    const deployment = await startDeployment('reporting-env', 'env-secret', 'inventory:read')
    vi.stubEnv('ISSUER', deployment.issuer)
    vi.stubEnv('CLIENT_ID', 'reporting-env')
    vi.stubEnv('CLIENT_SECRET', 'env-secret')
    vi.stubEnv('API_URL', deployment.apiUrl)
    try {
      const outcome = await main()

      expect(outcome).toMatchObject({ withoutInterceptor: 401, request: 200, fetch: 200, tokenRequests: 1 })
      expect(outcome.caller).toBe('from-env-api')
    } finally {
      await deployment.close()
    }
  })
})
