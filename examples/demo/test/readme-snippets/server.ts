import { createAuthorizationServer } from '@oauth-m2m/server'

const server = await createAuthorizationServer({
  clients: [
    // RFC 7591 client metadata
    { client_id: 'checkout-service', client_secret: process.env.CHECKOUT_SECRET!, scope: 'inventory:read' },
    {
      client_id: 'billing-api', // a resource server that introspects opaque tokens
      client_secret: process.env.BILLING_API_SECRET!,
      grant_types: [],
    },
  ],
  resources: [
    { resource: 'https://inventory.example.com' }, // JWT access tokens (RFC 9068), ES256
    { resource: 'https://billing.example.com', tokenFormat: 'opaque' }, // checked by introspection
  ],
  accessTokenLifetimeSec: 600,
})

// The first listener fixes the issuer: http://127.0.0.1:8080, with POST /token, /introspect,
// /revoke, GET /jwks and /.well-known/oauth-authorization-server.
const { url } = await server.listen({ port: 8080, host: '127.0.0.1' })
console.log(`issuer ${url}`)
