/**
 * A node:http server on a free loopback port, opened before its handler exists: the APIs' URLs
 * are their resource indicators, which the authorization server's configuration needs first.
 *
 * @module loopback-server
 */
import { createServer, type RequestListener } from 'node:http'
import type { AddressInfo } from 'node:net'

/** A listening server that does not answer until {@link LoopbackServer.serve} is called. */
export interface LoopbackServer {
  /** Base URL, e.g. `http://127.0.0.1:43121`. */
  readonly url: string
  /** Sets the request handler. */
  serve(handler: RequestListener): void
  /** Stops listening and drops idle keep-alive connections, so that closing never hangs. */
  close(): Promise<void>
}

/** Opens a server on 127.0.0.1 with a port the OS picks. */
export async function openLoopbackServer(): Promise<LoopbackServer> {
  const server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    serve(handler) {
      server.on('request', handler)
    },
    close() {
      return new Promise((resolve) => {
        server.close(() => resolve())
        server.closeIdleConnections()
      })
    },
  }
}
