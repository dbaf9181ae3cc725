/** The @oauth-m2m/verifier quickstart, given a token (`token`) its issuer issued for its API. */
import { runQuickstart, startWorld } from './world.js'

const world = await startWorld({
  issuer: 'https://as.example.com',
  clientId: 'service-a',
  clientSecret: 'quickstart-secret-of-service-a',
  scope: 'read:things',
  resources: ['https://api.example.com'],
  apis: [],
})
Object.assign(globalThis, {
  token: await world.issueToken({ scope: 'read:things', resource: 'https://api.example.com' }),
})
// verify() throws unless the token passes, so completing is the verdict; the requests show it was
// checked against the issuer's keys.
await runQuickstart(() => ({ serverRequests: world.serverRequests }))
await world.close()
