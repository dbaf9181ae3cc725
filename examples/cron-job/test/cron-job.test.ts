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

describe('example: cron-job', () => {
  afterEach(() => {
    vi.unstubAllEnvs()
  })

  it('gets one token and makes its one call', async () => {
    const outcome = await main()

    expect(outcome.status).toBe(201)
    expect(outcome.scope).toBe('reports:write')
    expect(outcome.tokenRequests).toBe(1)
  })

  // Starting tsx on the TypeScript sources takes seconds on a loaded machine; the bound is generous.
  it('as a script, exits 0 by itself once the job is done (no process.exit, nothing left running)', {
    timeout: 60_000,
  }, async () => {
    // execFile rejects on a non-zero exit and kills the child at the timeout: resolving means
    // the process ended on its own, with exit code 0.
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '--conditions=@oauth-m2m/source', 'examples/cron-job/src/main.ts'],
      { cwd: root, timeout: 50_000, env: { ...process.env, ISSUER: '' } },
    )

    expect(stdout).toMatch(/got a token for scope "reports:write", valid until \d{4}-/)
    expect(stdout).toMatch(/POST http:\/\/127\.0\.0\.1:\d+ -> 201/)
    expect(stdout).toContain('token requests: 1')
  })

  it('uses the authorization server, client and API named by the environment', async () => {
    const deployment = await startDeployment('export-env', 'env-secret', 'reports:write')
    vi.stubEnv('ISSUER', deployment.issuer)
    vi.stubEnv('CLIENT_ID', 'export-env')
    vi.stubEnv('CLIENT_SECRET', 'env-secret')
    vi.stubEnv('API_URL', deployment.apiUrl)
    try {
      const outcome = await main()

      // The stand-in API answers 200 where the local one answers 201.
      expect(outcome).toEqual({ status: 200, scope: 'reports:write', tokenRequests: 1 })
    } finally {
      await deployment.close()
    }
  })
})

/**
 * An issuer whose token endpoint drops its first connection without an answer and answers the
 * second, plus an API that accepts any bearer token: what a real server does not do on demand.
 */
async function startFlakyDeployment() {
  let tokenRequests = 0
  let url = ''
  const server = createServer((req, res) => {
    const json = (status: number, body: unknown) =>
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body))
    if (req.url === '/.well-known/oauth-authorization-server') {
      json(200, { issuer: url, token_endpoint: `${url}/token` })
    } else if (req.url === '/token') {
      if (++tokenRequests === 1) req.socket.destroy()
      else
        json(200, {
          access_token: 'flaky-token',
          token_type: 'Bearer',
          expires_in: 300,
          scope: 'reports:write',
        })
    } else if (req.url === '/api' && req.headers.authorization === 'Bearer flaky-token') {
      json(201, { caller: 'flaky' })
    } else {
      json(404, {})
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    url,
    tokenRequests: () => tokenRequests,
    close: () =>
      new Promise((resolve) => {
        server.close(resolve)
        server.closeAllConnections()
      }),
  }
}

describe('example: cron-job, when the first token request fails', () => {
  it('as a script, retries, does its work and exits 0 (the retry wait keeps the process alive)', {
    timeout: 60_000,
  }, async () => {
    const flaky = await startFlakyDeployment()
    try {
      const { stdout } = await promisify(execFile)(
        process.execPath,
        ['--import', 'tsx', '--conditions=@oauth-m2m/source', 'examples/cron-job/src/main.ts'],
        {
          cwd: root,
          timeout: 50_000,
          env: {
            ...process.env,
            ISSUER: flaky.url,
            CLIENT_ID: 'nightly-export',
            CLIENT_SECRET: 'flaky-secret',
            API_URL: `${flaky.url}/api`,
          },
        },
      )

      expect(stdout).toMatch(/got a token for scope "reports:write"/)
      expect(stdout).toContain(`POST ${flaky.url}/api -> 201`)
      expect(flaky.tokenRequests()).toBe(2)
    } finally {
      await flaky.close()
    }
  })
})
