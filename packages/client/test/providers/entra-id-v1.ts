import { clientSecretPost, createTokenClient } from '@oauth-m2m/client'

export const client = createTokenClient({
  tokenEndpoint: `https://login.microsoftonline.com/${process.env.AZURE_TENANT_ID}/oauth2/token`,
  clientId: process.env.AZURE_CLIENT_ID!,
  auth: clientSecretPost(process.env.AZURE_CLIENT_SECRET!),
  resource: 'api://orders-api', // v1 names the API with resource=, its App ID URI; no scope
  origins: ['https://orders.example.com'],
})
