import { clientSecretBasic, createTokenClient } from '@oauth-m2m/client'

export const client = createTokenClient({
  tokenEndpoint: 'https://acme.auth.us-west-2.amazoncognito.com/oauth2/token', // the user pool domain
  clientId: process.env.COGNITO_CLIENT_ID!,
  auth: clientSecretBasic(process.env.COGNITO_CLIENT_SECRET!),
  scope: 'orders-api/orders.read', // {resource server identifier}/{scope name}
  origins: ['https://orders.example.com'],
})
