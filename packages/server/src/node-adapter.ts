/**
 * The node:http adapter, the fast path used by `listen()` and the CLI: no web `Request` objects,
 * the body read in chunks up to the limit, synchronous endpoints answered without an async hop.
 *
 * @module node-adapter
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http'
import type { TLSSocket } from 'node:tls'
import { type EndpointResponse, payloadTooLarge } from './http-response.js'
import { peerCertificate, requestCertificate } from './request-certificate.js'
import { logRequest, observesRequests, type RequestClient, type RequestLog } from './request-log.js'
import { FormRoute, type ServerCore } from './server-core.js'
import { requestSource, type TrustedProxies } from './source-address.js'

function send(res: ServerResponse, response: EndpointResponse): void {
  if (res.destroyed) return
  // A known length avoids chunked encoding; the headers object is this response's own to extend.
  response.headers['content-length'] = String(Buffer.byteLength(response.body))
  res.writeHead(response.status, response.headers)
  res.end(response.body)
}

const NONE: readonly string[] = []

/**
 * Every header of `req` named `name` (lower case): node:http's `req.headers` keeps only the first
 * `Authorization` and joins repeated unknown headers (`DPoP`) with ", ".
 */
function allHeaders(req: IncomingMessage, name: 'authorization' | 'dpop'): readonly string[] {
  if (req.headers[name] === undefined) return NONE
  const values: string[] = []
  const raw = req.rawHeaders
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.length === name.length && raw[i]!.toLowerCase() === name) values.push(raw[i + 1]!)
  }
  return values
}

/** The `X-Forwarded-For` header; node joins repeats with ", ", its type allows an array. */
function forwardedFor(req: IncomingMessage): string | undefined {
  const value = req.headers['x-forwarded-for']
  return Array.isArray(value) ? value.join(',') : value
}

/** A header of `req` as one string; node joins repeats of most headers with ", ". */
function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name]
  return Array.isArray(value) ? value.join(', ') : value
}

function refuseTooLarge(
  req: IncomingMessage,
  answer: (response: EndpointResponse) => void,
  maxBodyBytes: number,
): void {
  // Stop reading: the rest of the body is never buffered; `connection: close` ends the exchange.
  req.pause()
  answer(payloadTooLarge(maxBodyBytes))
}

/**
 * A node:http request listener serving `core()`.
 *
 * @param core The bound server (looked up per request, as the issuer may be fixed after start).
 * @param maxBodyBytes Largest accepted request body, in bytes.
 * @param trustedProxy Proxies whose `X-Forwarded-For` names the caller, and whose certificate
 *   header holds the client certificate; none by default.
 * @param log The `onRequest` hook; without it (and without a diagnostics subscriber) nothing is measured.
 */
export function nodeRequestListener(
  core: () => ServerCore,
  maxBodyBytes: number,
  trustedProxy: TrustedProxies | undefined,
  log?: RequestLog,
): RequestListener {
  return (req, res) => {
    req.on('error', () => {
      // The client went away mid-body; there is nobody left to answer.
    })
    const method = req.method ?? 'GET'
    const url = req.url ?? '/'
    let client: RequestClient | undefined
    let answer = (response: EndpointResponse): void => send(res, response)
    if (observesRequests(log)) {
      const startedAtMs = performance.now()
      client = {}
      answer = (response) => {
        send(res, response)
        logRequest(log, method, url, startedAtMs, response, client, () => core().endpointOf(url))
      }
    }
    const route = core().route(method, url)
    if (route instanceof Promise) {
      // `/readyz`, which asks the store first; the promise never rejects.
      route.then(answer)
      return
    }
    if (!(route instanceof FormRoute)) {
      answer(route)
      return
    }
    const declared = req.headers['content-length']
    if (declared !== undefined && Number(declared) > maxBodyBytes) {
      refuseTooLarge(req, answer, maxBodyBytes)
      return
    }
    const chunks: Buffer[] = []
    let size = 0
    const onData = (chunk: Buffer): void => {
      size += chunk.length
      if (size > maxBodyBytes) {
        req.off('data', onData)
        req.off('end', onEnd)
        refuseTooLarge(req, answer, maxBodyBytes)
        return
      }
      chunks.push(chunk)
    }
    const onEnd = (): void => {
      const body = chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8')
      const result = route.handle(
        {
          authorization: allHeaders(req, 'authorization'),
          dpop: allHeaders(req, 'dpop'),
          contentType: req.headers['content-type'],
          body,
          // The socket's peer, or the caller a trusted proxy names.
          source: requestSource(req.socket.remoteAddress, forwardedFor(req), trustedProxy),
          clientCertificate: requestCertificate(
            req.socket.remoteAddress,
            (name) => header(req, name),
            trustedProxy,
            () => peerCertificate(req.socket as TLSSocket),
          ),
        },
        client,
      )
      if (result instanceof Promise) result.then(answer)
      else answer(result)
    }
    req.on('data', onData)
    req.on('end', onEnd)
  }
}
