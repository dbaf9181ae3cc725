/**
 * Start-up fixture: oauth2-mock-server through its documented programmatic API (README
 * "Quickstart"): `new OAuth2Server()`, `issuer.keys.generate('RS256')`, `start()`, then its first
 * token, from `issuer.buildToken()` or a client_credentials request to its `/token`.
 *
 * `node oauth2-mock-server.mjs <api|http> [alg]`: `alg` (default `RS256`, the README's) lets the
 * bench also time it with an ES256 key, the kind @oauth-m2m/testing generates, so the figures
 * show how much of the difference is RSA key generation.
 */
import { performance } from 'node:perf_hooks'
import { report, requestToken, tokenMode } from './token-request.mjs'

const enteredMs = performance.now()
const mode = tokenMode()
const { OAuth2Server } = await import('oauth2-mock-server')
const importedMs = performance.now()

const server = new OAuth2Server()
await server.issuer.keys.generate(process.argv[3] ?? 'RS256')
await server.start(0, '127.0.0.1')
const listeningMs = performance.now()

let token
if (mode === 'api') {
  token = await server.issuer.buildToken({ scopesOrTransform: 'read' })
} else {
  // issuer.url is the listener's origin, and /token the README's token endpoint.
  token = await requestToken(`${server.issuer.url}/token`, {
    clientId: 'bench-client',
    clientSecret: 'unused-by-oauth2-mock-server',
    scope: 'read',
  })
}
const tokenMs = performance.now()

await server.stop()
report({
  alg: process.argv[3] ?? 'RS256',
  resolved: import.meta.resolve('oauth2-mock-server'),
  enteredMs,
  importedMs,
  listeningMs,
  tokenMs,
  tokenParts: token.split('.').length,
})
