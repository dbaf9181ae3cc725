/**
 * A node:http listener on a loopback port that hands every request, as a web `Request`, to the
 * same request path msw uses (`request-router`), so failures, the request log and provider quirks
 * behave the same over a real port as in process. A web `Response.error()` resets the connection.
 *
 * @module test-listener
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { ConfigurationError } from '@oauth-m2m/core'
import { isLoopbackHostname } from '@oauth-m2m/core/internal'
import { DEFAULT_MAX_BODY_BYTES } from './request-body.js'
import type { RequestContext } from './request-router.js'

/** Answers a request that came over the port. Should not reject; a rejection answers 500. */
export type ListenerHandler = (request: Request, context: RequestContext) => Promise<Response>

/** Options of {@link startTestListener}. */
export interface TestListenerOptions {
  /** Loopback address to bind: any of 127.0.0.0/8, `::1` or `localhost`. Default `127.0.0.1`. */
  host?: string
  /** TCP port. Default 0: a free one. */
  port?: number
  /**
   * Bytes of a request body read at most; one byte more is passed on, so the server sees that it
   * is too large and refuses it (413), and the rest is never read. Default 65 536 (the server's).
   */
  maxBodyBytes?: number
  /** Longest time to receive a whole request, in milliseconds. Default 10 000 (the server's). */
  requestTimeoutMs?: number
  /** Longest time to receive a request's headers, in milliseconds. Default 5000 (the server's). */
  headersTimeoutMs?: number
  /** How long an idle keep-alive connection stays open, in milliseconds. Default 5000 (the server's). */
  keepAliveTimeoutMs?: number
}

/** A running listener. */
export interface TestListener {
  /** Base URL, e.g. `http://127.0.0.1:43121`. */
  readonly url: string
  /** Stops accepting connections, closes idle ones, and resolves once open exchanges have ended. */
  close(): Promise<void>
}

/** The listener limits a server configuration implies: its body limit and time-outs. */
export function listenerLimits(config: {
  maxBodyBytes?: number | undefined
  requestTimeoutMs?: number | undefined
  headersTimeoutMs?: number | undefined
  keepAliveTimeoutMs?: number | undefined
}): TestListenerOptions {
  const limits: TestListenerOptions = {}
  if (config.maxBodyBytes !== undefined) limits.maxBodyBytes = config.maxBodyBytes
  if (config.requestTimeoutMs !== undefined) limits.requestTimeoutMs = config.requestTimeoutMs
  if (config.headersTimeoutMs !== undefined) limits.headersTimeoutMs = config.headersTimeoutMs
  if (config.keepAliveTimeoutMs !== undefined) limits.keepAliveTimeoutMs = config.keepAliveTimeoutMs
  return limits
}

function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host
}

const SERVER_ERROR = JSON.stringify({
  error: 'server_error',
  error_description: 'the test server failed to answer',
})
const BAD_REQUEST = JSON.stringify({
  error: 'invalid_request',
  error_description: 'the request could not be read',
})

function sendJson(res: ServerResponse, status: number, body: string): void {
  if (res.headersSent || res.destroyed) return
  res.writeHead(status, {
    'content-type': 'application/json',
    'cache-control': 'no-store',
    'content-length': String(Buffer.byteLength(body)),
  })
  res.end(body)
}

/** Reads at most `limit` bytes of the body (so a larger one is seen as larger), then stops reading. */
function readBounded(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const done = (): void => {
      req.off('data', onData)
      req.off('end', done)
      req.off('error', reject)
      resolve(Buffer.concat(chunks))
    }
    const onData = (chunk: Buffer): void => {
      const kept = size + chunk.length > limit ? chunk.subarray(0, limit - size) : chunk
      chunks.push(kept)
      size += kept.length
      if (size >= limit) {
        req.pause()
        done()
      }
    }
    req.on('data', onData)
    req.on('end', done)
    req.on('error', reject)
  })
}

function toHeaders(req: IncomingMessage): Headers {
  const headers = new Headers()
  const raw = req.rawHeaders
  for (let i = 0; i + 1 < raw.length; i += 2) headers.append(raw[i]!, raw[i + 1]!)
  return headers
}

async function toWebRequest(
  req: IncomingMessage,
  baseUrl: string,
  maxBodyBytes: number,
  signal: AbortSignal,
): Promise<{ request: Request; overflowed: boolean } | undefined> {
  const target = req.url ?? ''
  // Origin-form only: an absolute-form target would let a request name another host.
  if (!target.startsWith('/')) return undefined
  const method = req.method ?? 'GET'
  const hasBody = method !== 'GET' && method !== 'HEAD'
  const body = hasBody ? await readBounded(req, maxBodyBytes + 1) : undefined
  try {
    const request = new Request(`${baseUrl}${target}`, { method, headers: toHeaders(req), body, signal })
    return { request, overflowed: body !== undefined && body.length > maxBodyBytes }
  } catch {
    return undefined
  }
}

async function writeResponse(
  req: IncomingMessage,
  res: ServerResponse,
  response: Response,
  closeAfter: boolean,
): Promise<void> {
  if (response.type === 'error') {
    // A reset, not a polite close: what a crashed or unplugged server looks like to the client.
    const socket = req.socket as Socket & { resetAndDestroy?: () => void }
    if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy()
    else socket.destroy()
    return
  }
  const headers: [string, string][] = []
  for (const [name, value] of response.headers) if (name !== 'set-cookie') headers.push([name, value])
  for (const cookie of response.headers.getSetCookie()) headers.push(['set-cookie', cookie])
  // The rest of an oversized body is never read, so the connection cannot carry another request.
  if (closeAfter && !response.headers.has('connection')) headers.push(['connection', 'close'])
  res.writeHead(response.status, headers.flat())
  if (response.body === null || req.method === 'HEAD') {
    await response.body?.cancel()
    res.end()
    return
  }
  await pipeline(Readable.fromWeb(response.body as import('node:stream/web').ReadableStream), res)
}

/**
 * Listens on a loopback port and answers every request with `handle`.
 *
 * - only loopback addresses are accepted (`ConfigurationError` otherwise);
 * - the request's URL is the listener's URL plus the request target (the `Host` header does not
 *   change it), and `context.remoteAddress` is the peer's address;
 * - `request.signal` aborts when the client goes away before its answer;
 * - a `Response.error()` resets the connection; a `handle` that rejects answers 500 `server_error`.
 *
 * @throws {ConfigurationError} when `host` is not a loopback address.
 */
export async function startTestListener(
  handle: ListenerHandler,
  options: TestListenerOptions = {},
): Promise<TestListener> {
  const {
    host = '127.0.0.1',
    port = 0,
    maxBodyBytes = DEFAULT_MAX_BODY_BYTES,
    requestTimeoutMs = 10_000,
    headersTimeoutMs = Math.min(5000, requestTimeoutMs),
    keepAliveTimeoutMs = 5000,
  } = options
  if (typeof host !== 'string' || !isLoopbackHostname(host)) {
    throw new ConfigurationError(
      '@oauth-m2m/testing: host must be a loopback address (127.0.0.0/8, ::1, localhost)',
    )
  }
  let baseUrl = ''
  const server = createServer(
    {
      requestTimeout: requestTimeoutMs,
      headersTimeout: headersTimeoutMs,
      keepAliveTimeout: keepAliveTimeoutMs,
      // Node checks both time-outs every 30 s by default; check often enough for them to hold.
      connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(headersTimeoutMs / 2))),
    },
    (req, res) => {
      const gone = new AbortController()
      res.on('close', () => {
        if (!res.writableFinished) gone.abort()
      })
      req.on('error', () => gone.abort())
      void (async () => {
        let incoming: Awaited<ReturnType<typeof toWebRequest>>
        try {
          incoming = await toWebRequest(req, baseUrl, maxBodyBytes, gone.signal)
        } catch {
          // The client went away mid-body; nobody is left to answer.
          return
        }
        if (incoming === undefined) {
          sendJson(res, 400, BAD_REQUEST)
          return
        }
        let response: Response
        try {
          response = await handle(incoming.request, { remoteAddress: req.socket.remoteAddress })
        } catch {
          sendJson(res, 500, SERVER_ERROR)
          return
        }
        await writeResponse(req, res, response, incoming.overflowed).catch(() => res.destroy())
      })()
    },
  )
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  baseUrl = `http://${urlHost(host)}:${(server.address() as AddressInfo).port}`
  let closed: Promise<void> | undefined
  return {
    url: baseUrl,
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeIdleConnections()
      })
      return closed
    },
  }
}
