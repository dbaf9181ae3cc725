/**
 * Floor fixture: bare node:http plus one ES256 `signJwt` per request — the least any JWT token
 * endpoint can cost here, without client authentication, form parsing or scope checks.
 */
import { randomUUID } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { signJwt } from '../../../packages/server/src/signing/jwt-signer.js'
import { SigningKeySet } from '../../../packages/server/src/signing/signing-key-set.js'
import { CLIENT_ID, REQUESTED_SCOPE, RESOURCE, TOKEN_LIFETIME_SEC } from './bench-client.js'
import { serveFixture } from './fixture-protocol.js'

const keys = await SigningKeySet.create({ alg: 'ES256' })

const server = createServer((req, res) => {
  req.resume()
  req.on('end', () => {
    const iat = Math.floor(Date.now() / 1000)
    const accessToken = signJwt(keys.current, {
      iss: 'http://127.0.0.1',
      sub: CLIENT_ID,
      aud: RESOURCE,
      exp: iat + TOKEN_LIFETIME_SEC,
      iat,
      jti: randomUUID(),
      client_id: CLIENT_ID,
      scope: REQUESTED_SCOPE,
    })
    const body = JSON.stringify({
      access_token: accessToken,
      token_type: 'Bearer',
      expires_in: TOKEN_LIFETIME_SEC,
      scope: REQUESTED_SCOPE,
    })
    res.writeHead(200, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      'cache-control': 'no-store',
      pragma: 'no-cache',
    })
    res.end(body)
  })
})
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo
  serveFixture(`http://127.0.0.1:${port}`, async () => {
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })
})
