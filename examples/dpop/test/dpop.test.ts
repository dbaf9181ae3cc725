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

/** A real deployment stand-in: the reference server and an API taking its DPoP-bound tokens only. */
async function startDeployment() {
  const api = createServer((req, res) => auth(req, res, () => res.end('{"caller":"from-env-api"}')))
  await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve))
  const apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`
  const server = await createAuthorizationServer({
    clients: [{ client_id: 'env-client', client_secret: 'env-secret', scope: 'payments:write' }],
    resources: [{ resource: apiUrl }],
  })
  const { url: issuer, close } = await server.listen({ port: 0, host: '127.0.0.1' })
  const verifier = createVerifier({ issuer, audience: apiUrl, dpop: 'required' })
  const auth = bearerAuth({ verifier })
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

describe('example: dpop', () => {
  afterEach(() => {
    vi.unstubAllEnvs()
  })

  it('gets a DPoP-bound token, calls the API with it, and the token alone is refused', async () => {
    const outcome = await main()

    expect(outcome.apiStatuses).toEqual([200, 200])
    expect(outcome.caller).toBe('checkout-service')
    expect(outcome.tokenType).toBe('DPoP')
    expect(outcome.boundToKey).toBe(true)
    expect(outcome.stolenTokenStatuses).toEqual([401, 401])
  })

  // Starting tsx on the TypeScript sources takes seconds on a loaded machine; the bound is generous.
  it('runs as a script: prints what happened and exits 0 on its own', { timeout: 60_000 }, async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '--conditions=@oauth-m2m/source', 'examples/dpop/src/main.ts'],
      { cwd: root, timeout: 50_000, env: { ...process.env, ISSUER: '' } },
    )

    expect(stdout).toContain('-> 200 (the API saw checkout-service)')
    expect(stdout).toMatch(/token_type DPoP, bound to key thumbprint [A-Za-z0-9_-]{43}/)
    expect(stdout).toContain('the token without its key, as Bearer: 401')
    expect(stdout).toContain('the token without its key, as DPoP: 401')
  })

  it('uses the servers named by the environment', async () => {
    const deployment = await startDeployment()
    vi.stubEnv('ISSUER', deployment.issuer)
    vi.stubEnv('CLIENT_ID', 'env-client')
    vi.stubEnv('CLIENT_SECRET', 'env-secret')
    vi.stubEnv('API_URL', deployment.apiUrl)
    try {
      const outcome = await main()

      expect(outcome.apiStatuses).toEqual([200, 200])
      expect(outcome.caller).toBe('from-env-api')
      expect(outcome.tokenType).toBe('DPoP')
      expect(outcome.stolenTokenStatuses).toEqual([401, 401])
    } finally {
      await deployment.close()
    }
  })

  it('fails clearly against a server that does not bind tokens', async () => {
    // A server with DPoP disabled answers Bearer tokens: the client, which asked for DPoP, refuses them.
    const apiUrl = 'http://127.0.0.1:9'
    const server = await createAuthorizationServer({
      clients: [{ client_id: 'env-client', client_secret: 'env-secret', scope: 'payments:write' }],
      resources: [{ resource: apiUrl }],
      dpop: 'disabled',
    })
    const { url: issuer } = await server.listen({ port: 0, host: '127.0.0.1' })
    vi.stubEnv('ISSUER', issuer)
    vi.stubEnv('CLIENT_ID', 'env-client')
    vi.stubEnv('CLIENT_SECRET', 'env-secret')
    vi.stubEnv('API_URL', apiUrl)
    try {
      // client.fetch sends nothing without the token it was meant to carry, and says why.
      await expect(main()).rejects.toMatchObject({
        code: 'ERR_TOKEN_UNAVAILABLE',
        cause: { code: 'ERR_DPOP_NOT_BOUND' },
      })
    } finally {
      await server.close()
    }
  })
})
