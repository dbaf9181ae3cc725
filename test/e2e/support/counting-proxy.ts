/**
 * A loopback reverse proxy that counts the requests it forwards, by method and path: a way to count
 * what really reaches the authorization server without touching it.
 */
import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { request } from 'undici'

/** A running proxy. */
export interface CountingProxy {
  /** Base URL of the proxy, e.g. `http://127.0.0.1:40123`. */
  readonly url: string
  /** How many requests with this method and path were forwarded. */
  count(method: string, path: string): number
  close(): Promise<void>
}

const FORWARDED_HEADERS = ['authorization', 'content-type', 'accept']

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

/** Starts a proxy on 127.0.0.1 port 0 in front of `target` (an origin). */
export function startCountingProxy(target: string): Promise<CountingProxy> {
  const counts = new Map<string, number>()
  const server = createServer((req, res) => {
    const key = `${req.method} ${new URL(req.url ?? '/', target).pathname}`
    counts.set(key, (counts.get(key) ?? 0) + 1)
    void (async () => {
      const headers: Record<string, string> = {}
      for (const name of FORWARDED_HEADERS) {
        const value = req.headers[name]
        if (typeof value === 'string') headers[name] = value
      }
      const body = await readBody(req)
      const upstream = await request(new URL(req.url ?? '/', target), {
        method: req.method as 'GET' | 'POST',
        headers,
        ...(body.length > 0 ? { body } : {}),
      })
      const answer = Buffer.from(await upstream.body.arrayBuffer())
      res.writeHead(upstream.statusCode, {
        'content-type': String(upstream.headers['content-type'] ?? 'application/octet-stream'),
      })
      res.end(answer)
    })().catch(() => {
      res.writeHead(502).end()
    })
  })
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo
      resolve({
        url: `http://127.0.0.1:${port}`,
        count: (method, path) => counts.get(`${method} ${path}`) ?? 0,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done())
            server.closeIdleConnections()
          }),
      })
    })
  })
}
