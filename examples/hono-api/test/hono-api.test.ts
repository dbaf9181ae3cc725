import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { createAuthorizationServer } from '@oauth-m2m/server'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { main } from '../src/main.js'

const root = fileURLToPath(new URL('../../..', import.meta.url))

describe('example: hono-api', () => {
  afterEach(() => {
    vi.unstubAllEnvs()
  })

  it("answers each caller per RFC 6750 and gives handlers the caller through c.get('auth')", async () => {
    const results = await main()

    expect(results.health.status).toBe(200)
    expect(results.noToken).toMatchObject({ status: 401, challenge: 'Bearer realm="inventory"' })
    expect(results.badToken.status).toBe(401)
    expect(results.badToken.challenge).toContain('error="invalid_token"')
    expect(results.readWithReadToken).toMatchObject({
      status: 200,
      body: { things: ['bolt', 'nut'], caller: 'warehouse-service' },
    })
    expect(results.writeWithReadToken.status).toBe(403)
    expect(results.writeWithReadToken.challenge).toContain('error="insufficient_scope"')
    expect(results.writeWithReadToken.challenge).toContain('scope="inventory:write"')
    expect(results.writeWithWriteToken).toMatchObject({
      status: 201,
      body: { created: true, by: 'warehouse-service', scopes: ['inventory:read', 'inventory:write'] },
    })
  })

  // Starting tsx on the TypeScript sources takes seconds on a loaded machine; the bound is generous.
  it('runs as a script: prints each answer and exits 0 on its own', { timeout: 60_000 }, async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '--conditions=@oauth-m2m/source', 'examples/hono-api/src/main.ts'],
      { cwd: root, timeout: 50_000, env: { ...process.env, ISSUER: '' } },
    )

    expect(stdout).toContain('no token: GET /things -> 401')
    expect(stdout).toContain('read token: GET /things -> 200')
    expect(stdout).toContain('read token: POST /things -> 403')
    expect(stdout).toContain('write token: POST /things -> 201')
  })

  it('uses the authorization server, audience and client named by the environment', async () => {
    const server = await createAuthorizationServer({
      clients: [
        { client_id: 'env-caller', client_secret: 'env-secret', scope: 'inventory:read inventory:write' },
      ],
      resources: [{ resource: 'https://api.env.example' }],
    })
    const { url, close } = await server.listen({ port: 0, host: '127.0.0.1' })
    vi.stubEnv('ISSUER', url)
    vi.stubEnv('AUDIENCE', 'https://api.env.example')
    vi.stubEnv('CLIENT_ID', 'env-caller')
    vi.stubEnv('CLIENT_SECRET', 'env-secret')
    try {
      const results = await main()

      expect(results.readWithReadToken).toMatchObject({ status: 200, body: { caller: 'env-caller' } })
      expect(results.writeWithReadToken.status).toBe(403)
      expect(results.writeWithWriteToken.status).toBe(201)
    } finally {
      await close()
    }
  })
})
