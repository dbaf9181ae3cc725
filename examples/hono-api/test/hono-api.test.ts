import { createAuthorizationServer } from '@oauth-m2m/server'
import { describeFrameworkApiExample } from '../../test-support/framework-api-spec.js'
import { main } from '../src/main.js'

describeFrameworkApiExample({
  name: 'hono-api',
  principalAt: "c.get('auth')",
  main,
  createAuthorizationServer,
})
