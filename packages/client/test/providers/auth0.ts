import { clientSecretPost, createTokenClient } from '@oauth-m2m/client'

export const client = createTokenClient({
  tokenEndpoint: 'https://acme.us.auth0.com/oauth/token',
  clientId: process.env.AUTH0_CLIENT_ID!,
  auth: clientSecretPost(process.env.AUTH0_CLIENT_SECRET!),
  audience: 'https://api.acme.example', // the API Identifier; being https, also where client.fetch sends the token
})
