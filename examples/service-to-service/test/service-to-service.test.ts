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

describe('example: service-to-service', () => {
  afterEach(() => {
    vi.unstubAllEnvs()
  })

  it('calls the API three times with one token, and never sends it to another origin', async () => {
    const outcome = await main()

    expect(outcome.apiStatuses).toEqual([200, 200, 200])
    expect(outcome.caller).toBe('checkout-service')
    expect(outcome.tokenRequests).toBe(1)
    expect(outcome.thirdPartySawToken).toBe(false)
  })

  // Starting tsx on the TypeScript sources takes seconds on a loaded machine; the bound is generous.
  it('runs as a script: prints what happened and exits 0 on its own', { timeout: 60_000 }, async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '--conditions=@oauth-m2m/source', 'examples/service-to-service/src/main.ts'],
      { cwd: root, timeout: 50_000, env: { ...process.env, ISSUER: '' } },
    )

    expect(stdout).toContain('-> 200 (the API saw checkout-service)')
    expect(stdout).toContain('third-party service received a token: false')
    expect(stdout).toContain('token requests for 3 API calls: 1')
  })

  it('uses the authorization server, client and API named by the environment', async () => {
    const deployment = await startDeployment('checkout-env', 'env-secret', 'inventory:read')
    vi.stubEnv('ISSUER', deployment.issuer)
    vi.stubEnv('CLIENT_ID', 'checkout-env')
    vi.stubEnv('CLIENT_SECRET', 'env-secret')
    vi.stubEnv('API_URL', deployment.apiUrl)
    try {
      const outcome = await main()

      expect(outcome.apiStatuses).toEqual([200, 200, 200])
      expect(outcome.caller).toBe('from-env-api')
      expect(outcome.tokenRequests).toBe(1)
      expect(outcome.thirdPartySawToken).toBe(false)
    } finally {
      await deployment.close()
    }
  })
})
