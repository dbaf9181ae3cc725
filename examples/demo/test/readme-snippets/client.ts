import { clientSecretBasic, createTokenClient } from '@oauth-m2m/client'

const client = createTokenClient({
  issuer: 'https://as.example.com', // token endpoint found by RFC 8414 discovery
  clientId: 'checkout-service',
  auth: clientSecretBasic(process.env.CLIENT_SECRET!), // or clientSecretPost, clientSecretJwt, privateKeyJwt
  scope: 'inventory:read',
  resource: 'https://inventory.example.com', // RFC 8707: the token's audience, and where fetch sends it
})

// `Authorization: Bearer …` is added for https://inventory.example.com only. The token is cached,
// refreshed in the background before it expires, and fetched once however many calls wait for it.
const res = await client.fetch('https://inventory.example.com/items')
console.log(res.status, await res.json())

// Or take the token yourself: { accessToken, tokenType, expiresAt, scope, … }
const token = await client.getToken()
console.log(`token valid until ${new Date(token.expiresAt).toISOString()}`)

await client.close()
