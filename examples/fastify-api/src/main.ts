/**
 * A Fastify API protected with the `@oauth-m2m/verifier/fastify` plugin: every route needs a
 * valid token unless it opts out, each route adds the scopes it needs in `config.bearerAuth`, and
 * handlers find the verified caller on `request.auth`.
 *
 * Run: pnpm --filter @oauth-m2m/example-fastify-api start
 * Against your own authorization server: ISSUER, AUDIENCE (this API's identifier there), and
 * CLIENT_ID / CLIENT_SECRET of a client allowed `inventory:read inventory:write` for it.
 */
import { pathToFileURL } from 'node:url'
import { createVerifier, type Verifier } from '@oauth-m2m/verifier'
import { bearerAuth } from '@oauth-m2m/verifier/fastify'
import Fastify, { type FastifyInstance } from 'fastify'
import { type CallResults, callApi, startAuthorizationServer } from './local-setup.js'

/** The API: open health check, read and write routes with their scopes. */
export async function createApp(verifier: Verifier): Promise<FastifyInstance> {
  const app = Fastify()
  // Registered before the routes: a route's scopes are checked when it is declared.
  await app.register(bearerAuth, { verifier, realm: 'inventory' })

  app.get('/health', { config: { bearerAuth: false } }, () => 'ok')
  app.get('/things', { config: { bearerAuth: { requiredScopes: ['inventory:read'] } } }, (request) => ({
    things: ['bolt', 'nut'],
    caller: request.auth?.clientId,
  }))
  app.post('/things', { config: { bearerAuth: { requiredScopes: ['inventory:write'] } } }, (request, reply) =>
    reply.code(201).send({ created: true, by: request.auth?.clientId, scopes: request.auth?.scopes }),
  )
  return app
}

export async function main(log: (line: string) => void = () => {}): Promise<CallResults> {
  const { issuer, audience, caller, close } = await startAuthorizationServer()

  // One verifier per process: it caches the issuer's keys and recently verified tokens.
  const verifier = createVerifier({ issuer, audience })
  const app = await createApp(verifier)
  const apiUrl = await app.listen({ port: 0, host: '127.0.0.1' })
  log(`inventory API on ${apiUrl}, accepting tokens from ${issuer} for ${audience}`)

  try {
    return await callApi(caller, apiUrl, log)
  } finally {
    await app.close()
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
