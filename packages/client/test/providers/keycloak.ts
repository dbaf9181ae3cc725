import { clientSecretBasic, createTokenClient } from '@oauth-m2m/client'

export const client = createTokenClient({
  issuer: 'https://sso.example.com/realms/acme', // discovery finds /protocol/openid-connect/token
  clientId: 'orders-job', // a confidential client with "Service accounts" enabled
  auth: clientSecretBasic(process.env.KEYCLOAK_CLIENT_SECRET!),
  origins: ['https://orders.example.com'],
})
