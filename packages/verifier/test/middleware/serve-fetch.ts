/** Serves a web-standard `fetch` handler on 127.0.0.1 port 0 through @hono/node-server. */
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import type { AppUnderTest } from './conformance.js'

/** Starts the handler; resolves once it listens. */
export function serveFetch(fetch: (request: Request) => Response | Promise<Response>): Promise<AppUnderTest> {
  return new Promise((resolve) => {
    const server = serve({ fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) => {
      resolve({
        url: `http://127.0.0.1:${info.port}`,
        close: () => new Promise<void>((done) => server.close(() => done())),
      })
    })
  })
}
