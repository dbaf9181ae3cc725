import { readFileSync } from 'node:fs'
import { createTokenClient, privateKeyJwt } from '@oauth-m2m/client'

export const client = createTokenClient({
  tokenEndpoint: `https://login.microsoftonline.com/${process.env.AZURE_TENANT_ID}/oauth2/v2.0/token`,
  clientId: process.env.AZURE_CLIENT_ID!,
  auth: privateKeyJwt(readFileSync(process.env.ENTRA_KEY_FILE!, 'utf8'), {
    certificate: readFileSync(process.env.ENTRA_CERTIFICATE_FILE!, 'utf8'), // as uploaded to the app registration
    typ: 'JWT', // as Entra ID documents the assertion header
  }),
  scope: 'api://orders-api/.default',
})
