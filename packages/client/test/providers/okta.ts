import { clientSecretBasic, createTokenClient } from '@oauth-m2m/client'

export const client = createTokenClient({
  issuer: 'https://dev-123456.okta.com/oauth2/default', // a custom authorization server; discovery finds /v1/token
  clientId: process.env.OKTA_CLIENT_ID!,
  auth: clientSecretBasic(process.env.OKTA_CLIENT_SECRET!),
  scope: 'orders.read', // at least one custom scope is required
  origins: ['https://orders.example.com'],
})
