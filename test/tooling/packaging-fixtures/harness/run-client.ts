/** The @oauth-m2m/client quickstart against its issuer and the two APIs it names. */
import { runQuickstart, startWorld } from './world.js'

const world = await startWorld({
  issuer: 'https://as.example.com',
  clientId: 'service-a',
  clientSecret: 'quickstart-secret-of-service-a',
  scope: 'read:things write:things',
  resources: ['https://api.b.example.com', 'https://api.c.example.com'],
  apis: ['https://api.b.example.com'],
})
process.env.CLIENT_SECRET = 'quickstart-secret-of-service-a'
await runQuickstart(() => ({
  tokenRequests: world.serverRequests.filter((request) => request === 'POST /token').length,
  apiCalls: world.apiCalls,
}))
await world.close()
