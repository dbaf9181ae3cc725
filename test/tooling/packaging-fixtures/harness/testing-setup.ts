/**
 * vitest setup for the @oauth-m2m/testing quickstart: `apiUrl` is "your API under test", a
 * node:http server that answers 200 to a token a verifier accepts for the token's own issuer and
 * audience (the quickstart's server, on a port it picks), and 401 to anything else.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createVerifier } from '@oauth-m2m/verifier'
import { afterAll } from 'vitest'

const api = createServer(async (request, response) => {
  const token = request.headers.authorization?.replace(/^Bearer /, '') ?? ''
  let status = 401
  try {
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
      iss: string
      aud: string | string[]
    }
    const audience = Array.isArray(claims.aud) ? (claims.aud[0] ?? '') : claims.aud
    const verifier = createVerifier({ issuer: claims.iss, audience })
    try {
      await verifier.verify(token)
      status = 200
    } finally {
      await verifier.close()
    }
  } catch {
    status = 401
  }
  response.writeHead(status, { 'content-type': 'application/json' }).end('[]')
})
await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve))
Object.assign(globalThis, { apiUrl: `http://127.0.0.1:${(api.address() as AddressInfo).port}` })
afterAll(() => new Promise<void>((resolve) => api.close(() => resolve())))
