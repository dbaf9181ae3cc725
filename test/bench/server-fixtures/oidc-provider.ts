/**
 * oidc-provider 9 configured like the oauth-m2m fixture: the same client with
 * `client_secret_basic`, the client_credentials grant, and ES256 JWT access tokens (RFC 9068) for
 * the bench resource, via `features.resourceIndicators.getResourceServerInfo`.
 */
import { generateKeyPairSync } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import Provider from 'oidc-provider'
import { CLIENT_ID, CLIENT_SCOPE, CLIENT_SECRET, RESOURCE, TOKEN_LIFETIME_SEC } from './bench-client.js'
import { serveFixture } from './fixture-protocol.js'

const signingJwk = {
  ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }),
  alg: 'ES256',
  use: 'sig',
}

const server = createServer()
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
const { port } = server.address() as AddressInfo
const issuer = `http://127.0.0.1:${port}`

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      scope: CLIENT_SCOPE,
    },
  ],
  jwks: { keys: [signingJwk] },
  scopes: CLIENT_SCOPE.split(' '),
  clientDefaults: { id_token_signed_response_alg: 'ES256' },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => RESOURCE,
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx: unknown, resourceIndicator: string) => {
        if (resourceIndicator !== RESOURCE) throw new Provider.errors.InvalidTarget()
        return {
          scope: CLIENT_SCOPE,
          audience: RESOURCE,
          accessTokenTTL: TOKEN_LIFETIME_SEC,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'ES256' } },
        }
      },
    },
  },
})
server.on('request', provider.callback())
serveFixture(issuer, async () => {
  server.closeAllConnections()
  await new Promise<void>((resolve) => server.close(() => resolve()))
})
