/**
 * An Express API protected with `@oauth-m2m/verifier/express`: each route names the scopes it
 * needs, and the handler finds the verified caller on `req.auth`.
 *
 * Run: pnpm --filter @oauth-m2m/example-express-api start
 * Against your own authorization server: ISSUER, AUDIENCE (this API's identifier there), and
 * CLIENT_ID / CLIENT_SECRET of a client allowed `inventory:read inventory:write` for it.
 */
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { pathToFileURL } from 'node:url'
import { createVerifier, type Verifier } from '@oauth-m2m/verifier'
import { bearerAuth } from '@oauth-m2m/verifier/express'
import express, { type Express } from 'express'
import { type CallResults, callApi, startAuthorizationServer } from './local-setup.js'

/** The API: open health check, read and write routes with their scopes. */
export function createApp(verifier: Verifier): Express {
  const app = express()
  // One middleware per scope set, created once: options are checked at start, not per request.
  const canRead = bearerAuth({ verifier, realm: 'inventory', requiredScopes: ['inventory:read'] })
  const canWrite = bearerAuth({ verifier, realm: 'inventory', requiredScopes: ['inventory:write'] })

  app.get('/health', (_req, res) => {
    res.send('ok')
  })
  app.get('/things', canRead, (req, res) => {
    res.json({ things: ['bolt', 'nut'], caller: req.auth?.clientId })
  })
  app.post('/things', canWrite, (req, res) => {
    res.status(201).json({ created: true, by: req.auth?.clientId, scopes: req.auth?.scopes })
  })
  return app
}

export async function main(log: (line: string) => void = () => {}): Promise<CallResults> {
  const { issuer, audience, caller, close } = await startAuthorizationServer()

  // One verifier per process: it caches the issuer's keys and recently verified tokens.
  const verifier = createVerifier({ issuer, audience })
  const server = createApp(verifier).listen(0, '127.0.0.1')
  await once(server, 'listening')
  const apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
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
