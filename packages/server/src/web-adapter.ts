/**
 * The web-standard adapter: `Request` in, `Response` out, for msw handlers, edge runtimes and
 * frameworks that speak fetch (Hono, Next.js route handlers).
 *
 * @module web-adapter
 */
import type { X509Certificate } from 'node:crypto'
import { type EndpointResponse, oauthError, payloadTooLarge } from './http-response.js'
import { requestCertificate } from './request-certificate.js'
import { logRequest, observesRequests, type RequestClient, type RequestLog } from './request-log.js'
import { FormRoute, type ServerCore } from './server-core.js'
import { requestSource, type TrustedProxies } from './source-address.js'

function toResponse(response: EndpointResponse, isHead: boolean): Response {
  const body = isHead || response.body === '' ? null : response.body
  return new Response(body, { status: response.status, headers: response.headers })
}

/** The body as text, or `undefined` once it grows past `maxBodyBytes` (reading stops there). */
async function readBounded(request: Request, maxBodyBytes: number): Promise<string | undefined> {
  if (request.body === null) return ''
  const reader = request.body.getReader()
  const decoder = new TextDecoder()
  let size = 0
  let text = ''
  for (;;) {
    const { done, value } = await reader.read()
    if (done) return text + decoder.decode()
    size += value.byteLength
    if (size > maxBodyBytes) {
      await reader.cancel().catch(() => undefined)
      return undefined
    }
    text += decoder.decode(value, { stream: true })
  }
}

/**
 * Answers a web `Request` with `core`. Never rejects for anything the request holds.
 *
 * @param remoteAddress The caller's address when the host knows it (a `Request` does not carry
 *   one); `undefined` puts every caller in one shared source for brute-force protection.
 * @param trustedProxy Proxies whose `X-Forwarded-For` names the caller when `remoteAddress` is one,
 *   and whose certificate header then holds the client certificate.
 * @param clientCertificate The client certificate the host read from its TLS connection, if any.
 * @param log The `onRequest` hook; without it (and without a diagnostics subscriber) nothing is measured.
 */
export async function handleWebRequest(
  core: ServerCore,
  request: Request,
  maxBodyBytes: number,
  remoteAddress: string | undefined,
  trustedProxy: TrustedProxies | undefined,
  clientCertificate?: X509Certificate,
  log?: RequestLog,
): Promise<Response> {
  const observed = observesRequests(log)
  const startedAtMs = observed ? performance.now() : 0
  const client: RequestClient | undefined = observed ? {} : undefined
  const url = new URL(request.url)
  const target = url.pathname + url.search
  const answer = await endpointResponse(core, request, target, maxBodyBytes, remoteAddress, trustedProxy, {
    clientCertificate,
    client,
  })
  const response = toResponse(answer, request.method === 'HEAD')
  if (observed) {
    logRequest(log, request.method, target, startedAtMs, answer, client, () => core.endpointOf(target))
  }
  return response
}

async function endpointResponse(
  core: ServerCore,
  request: Request,
  target: string,
  maxBodyBytes: number,
  remoteAddress: string | undefined,
  trustedProxy: TrustedProxies | undefined,
  { clientCertificate, client }: { clientCertificate?: X509Certificate; client?: RequestClient | undefined },
): Promise<EndpointResponse> {
  const route = core.route(request.method, target)
  if (!(route instanceof FormRoute)) return route
  const declared = request.headers.get('content-length')
  if (declared !== null && Number(declared) > maxBodyBytes) return payloadTooLarge(maxBodyBytes)
  let body: string | undefined
  try {
    body = await readBounded(request, maxBodyBytes)
  } catch {
    return oauthError(400, 'invalid_request', 'the request body could not be read')
  }
  if (body === undefined) return payloadTooLarge(maxBodyBytes)
  const authorization = request.headers.get('authorization')
  const dpop = request.headers.get('dpop')
  return route.handle(
    {
      // Repeated headers arrive joined with ", "; the core refuses that comma.
      authorization: authorization === null ? [] : [authorization],
      dpop: dpop === null ? [] : [dpop],
      contentType: request.headers.get('content-type') ?? undefined,
      body,
      source: requestSource(remoteAddress, request.headers.get('x-forwarded-for') ?? undefined, trustedProxy),
      clientCertificate: requestCertificate(
        remoteAddress,
        (name) => request.headers.get(name) ?? undefined,
        trustedProxy,
        () => clientCertificate,
      ),
    },
    client,
  )
}
