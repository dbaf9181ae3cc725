/** The oauth-m2m reference server (the built package) with the bench client, issuing ES256 JWTs. */
import { createAuthorizationServer } from '@oauth-m2m/server'
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
    },
  ],
  resources: [{ resource: RESOURCE, tokenFormat: 'jwt' }],
  tokenFormat: 'jwt',
  accessTokenLifetimeSec: TOKEN_LIFETIME_SEC,
  signing: { alg: 'ES256' },
})
const { url } = await server.listen({ port: 0, host: '127.0.0.1' })
serveFixture(url, () => server.close())
