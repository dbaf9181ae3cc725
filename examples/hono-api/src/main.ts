/**
 * A Hono API protected with `@oauth-m2m/verifier/hono`: each route names the scopes it needs,
 * the handler reads the verified caller with `c.get('auth')`, and `@hono/node-server` serves it.
 *
 * Run: pnpm --filter @oauth-m2m/example-hono-api start
 * Against your own authorization server: ISSUER, AUDIENCE (this API's identifier there), and
 * CLIENT_ID / CLIENT_SECRET of a client allowed `inventory:read inventory:write` for it.
 */
import { once } from 'node:events'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { pathToFileURL } from 'node:url'
import { serve } from '@hono/node-server'
import { createVerifier, type Verifier } from '@oauth-m2m/verifier'
import { type BearerAuthEnv, bearerAuth } from '@oauth-m2m/verifier/hono'
import { Hono } from 'hono'
import { type CallResults, callApi, startAuthorizationServer } from './local-setup.js'

/** The API: open health check, read and write routes with their scopes. */
export function createApp(verifier: Verifier): Hono<BearerAuthEnv> {
  // BearerAuthEnv types c.get('auth') as the verified Principal.
  const app = new Hono<BearerAuthEnv>()
  // One middleware per scope set, created once: options are checked at start, not per request.
  const canRead = bearerAuth({ verifier, realm: 'inventory', requiredScopes: ['inventory:read'] })
  const canWrite = bearerAuth({ verifier, realm: 'inventory', requiredScopes: ['inventory:write'] })

  app.get('/health', (c) => c.text('ok'))
  app.get('/things', canRead, (c) => c.json({ things: ['bolt', 'nut'], caller: c.get('auth').clientId }))
  app.post('/things', canWrite, (c) => {
    const { clientId, scopes } = c.get('auth')
    return c.json({ created: true, by: clientId, scopes }, 201)
  })
  return app
}

export async function main(log: (line: string) => void = () => {}): Promise<CallResults> {
  const { issuer, audience, caller, close } = await startAuthorizationServer()

  // One verifier per process: it caches the issuer's keys and recently verified tokens.
  const verifier = createVerifier({ issuer, audience })
  const app = createApp(verifier)
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }) as Server
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  const apiUrl = `http://127.0.0.1:${port}`
  log(`inventory API on ${apiUrl}, accepting tokens from ${issuer} for ${audience}`)

  try {
    return await callApi(caller, apiUrl, log)
  } finally {
    await new Promise<void>((resolve) => {
      server.close(() => resolve())
      server.closeIdleConnections()
    })
    await verifier.close()
    await close()
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(console.log).catch((error: unknown) => {
    console.error(error)
    process.exitCode = 1
  })
}
