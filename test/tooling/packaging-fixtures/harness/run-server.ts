/** The @oauth-m2m/server quickstart: it listens on a free loopback port and closes. */
import { runQuickstart } from './world.js'

process.env.SERVICE_A_SECRET = 'quickstart-secret-of-service-a'
await runQuickstart(() => ({}))
