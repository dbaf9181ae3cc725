/**
 * Start-up fixture: `startAuthorizationServer()` of @oauth-m2m/testing, imported the way a user's
 * test imports it (the package's built `dist`, plain `node`, no loader), then its first token.
 */
import { performance } from 'node:perf_hooks'
import { report, requestToken, tokenMode } from './token-request.mjs'

const enteredMs = performance.now()
const mode = tokenMode()
const { startAuthorizationServer } = await import('@oauth-m2m/testing')
const importedMs = performance.now()

const as = await startAuthorizationServer({ port: 0, host: '127.0.0.1' })
const listeningMs = performance.now()

let token
if (mode === 'api') {
  token = await as.mintToken()
} else {
  const { clientId, clientSecret } = as.createClient()
  token = await requestToken(as.tokenEndpoint, { clientId, clientSecret, scope: 'read' })
}
const tokenMs = performance.now()

await as.close()
report({
  resolved: import.meta.resolve('@oauth-m2m/testing'),
  enteredMs,
  importedMs,
  listeningMs,
  tokenMs,
  tokenParts: token.split('.').length,
})
