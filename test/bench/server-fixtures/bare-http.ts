/**
 * Baseline fixture: a bare node:http server that reads the request body and answers every
 * request with the same small JSON, the floor under any token endpoint on this machine.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { serveFixture } from './fixture-protocol.js'

const body = JSON.stringify({
  access_token: 'x'.repeat(400),
  token_type: 'Bearer',
  expires_in: 300,
  scope: 'read',
})

const server = createServer((req, res) => {
  req.resume()
  req.on('end', () => {
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
