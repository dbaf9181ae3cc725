import { createAuthorizationServer } from '@oauth-m2m/server'
import { describeFrameworkApiExample } from '../../test-support/framework-api-spec.js'
import { main } from '../src/main.js'

describeFrameworkApiExample({
  name: 'fastify-api',
  principalAt: 'request.auth',
  main,
  createAuthorizationServer,
})
