/**
 * The oauth-m2m reference server (the built package) issuing DPoP-bound ES256 JWTs to the bench
 * client: the same as `oauth-m2m.ts`, with a shorter proof window (5 s) and room for every proof
 * the load sends in it, so that the replay store never fills under bench load (it would answer 503).
 */
import { createAuthorizationServer, MemoryServerStore } from '@oauth-m2m/server'
import { CLIENT_ID, CLIENT_SCOPE, CLIENT_SECRET, RESOURCE, TOKEN_LIFETIME_SEC } from './bench-client.js'
import { serveFixture } from './fixture-protocol.js'

const server = await createAuthorizationServer({
  clients: [
    {
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['client_credentials'],
      scope: CLIENT_SCOPE,
      dpop_bound_access_tokens: true,
    },
  ],
  resources: [{ resource: RESOURCE, tokenFormat: 'jwt' }],
  tokenFormat: 'jwt',
  accessTokenLifetimeSec: TOKEN_LIFETIME_SEC,
  signing: { alg: 'ES256' },
  dpop: { iatWindowSec: 5 },
  store: new MemoryServerStore({ maxDpopJtis: 1_000_000 }),
})
const { url } = await server.listen({ port: 0, host: '127.0.0.1' })
serveFixture(url, () => server.close())
