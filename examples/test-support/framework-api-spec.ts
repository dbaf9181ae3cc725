/**
 * The specification the three framework examples (express-api, fastify-api, hono-api) share:
 * the same API, protected by each framework's middleware, answers the same callers the same way.
 * Each example's own test file runs it; this module imports no package, so it resolves anywhere.
 */
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterEach, describe, expect, it, vi } from 'vitest'

/** One answer of the example API, as the example's `main()` reports it. */
interface CallResult {
  status: number
  challenge: string | null
  body: unknown
}

/** What the example's `main()` returns: one answer per kind of caller. */
export interface ApiExampleResults {
  health: CallResult
  noToken: CallResult
  badToken: CallResult
  readWithReadToken: CallResult
  writeWithReadToken: CallResult
  writeWithWriteToken: CallResult
}

/** What a framework example's test hands the shared specification. */
export interface FrameworkApiExample {
  /** Folder name under examples/, e.g. `express-api`. */
  name: string
  /** Where that framework puts the Principal, for the test title, e.g. `req.auth`. */
  principalAt: string
  /** The example's `main()`. */
  main: () => Promise<ApiExampleResults>
  /** `createAuthorizationServer` of `@oauth-m2m/server`, passed in so this module imports no package. */
  createAuthorizationServer: (config: {
    clients: { client_id: string; client_secret: string; scope: string }[]
    resources: { resource: string }[]
  }) => Promise<{
    listen(options: { port: number; host: string }): Promise<{ url: string; close(): Promise<void> }>
  }>
}

const root = fileURLToPath(new URL('../..', import.meta.url))

/** Declares the example's tests: in-process run, as a script, and against servers named by the environment. */
export function describeFrameworkApiExample(example: FrameworkApiExample): void {
  describe(`example: ${example.name}`, () => {
    afterEach(() => {
      vi.unstubAllEnvs()
    })

    it(`answers each caller per RFC 6750 and gives handlers the caller on ${example.principalAt}`, async () => {
      const results = await example.main()

      expect(results.health.status).toBe(200)
      // DPoP is accepted by default (dpop: 'allowed'), so both schemes are challenged (RFC 9449 §7.1).
      expect(results.noToken.status).toBe(401)
      expect(results.noToken.challenge).toMatch(
        /^Bearer realm="inventory", DPoP realm="inventory", algs="[^"]+"$/,
      )
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
        ['--import', 'tsx', '--conditions=@oauth-m2m/source', `examples/${example.name}/src/main.ts`],
        { cwd: root, timeout: 50_000, env: { ...process.env, ISSUER: '' } },
      )

      expect(stdout).toContain('no token: GET /things -> 401')
      expect(stdout).toContain('read token: GET /things -> 200')
      expect(stdout).toContain('read token: POST /things -> 403')
      expect(stdout).toContain('write token: POST /things -> 201')
    })

    it('uses the authorization server, audience and client named by the environment', async () => {
      const server = await example.createAuthorizationServer({
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
        const results = await example.main()

        expect(results.readWithReadToken).toMatchObject({ status: 200, body: { caller: 'env-caller' } })
        expect(results.writeWithReadToken.status).toBe(403)
        expect(results.writeWithWriteToken.status).toBe(201)
      } finally {
        await close()
      }
    })
  })
}
