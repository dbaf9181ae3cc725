import { clientSecretPost, createTokenClient } from '@oauth-m2m/client'

export const client = createTokenClient({
  tokenEndpoint: `https://login.microsoftonline.com/${process.env.AZURE_TENANT_ID}/oauth2/v2.0/token`,
  clientId: process.env.AZURE_CLIENT_ID!,
  auth: clientSecretPost(process.env.AZURE_CLIENT_SECRET!),
  scope: 'api://orders-api/.default', // the API's App ID URI + /.default: one API per token
  origins: ['https://orders.example.com'], // where client.fetch sends the token
})
