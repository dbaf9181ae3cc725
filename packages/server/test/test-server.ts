/**
 * Shared set-up of the server tests: a real server on 127.0.0.1:0 and small HTTP helpers.
 */
import { encodeBasicCredentials } from '@oauth-m2m/core/internal'
import {
  type AuthorizationServer,
  type AuthorizationServerConfig,
  createAuthorizationServer,
  type HandleOptions,
  type ListenOptions,
} from '@oauth-m2m/server'
import { afterEach } from 'vitest'

export const FORM = 'application/x-www-form-urlencoded'

/** A started server; closed after the test that started it. */
export interface RunningServer {
  server: AuthorizationServer
  url: string
}

const running: AuthorizationServer[] = []
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()))
})

/** Starts a server on 127.0.0.1:0; it is closed after the current test. */
export async function startServer(
  config: AuthorizationServerConfig,
  listen: ListenOptions = {},
): Promise<RunningServer> {
  const server = await createAuthorizationServer(config)
  running.push(server)
  const { url } = await server.listen({ port: 0, host: '127.0.0.1', ...listen })
  return { server, url }
}

/** An answer with its body parsed when it is JSON. */
export interface Answer {
  status: number
  headers: Headers
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON members
  json: any
  text: string
}

/** Sends a request and reads the whole answer. */
export async function send(url: string, init: RequestInit = {}): Promise<Answer> {
  const res = await fetch(url, init)
  const text = await res.text()
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    json = undefined
  }
  return { status: res.status, headers: res.headers, json, text }
}

/** POSTs a form body (a raw string is sent as is) with the form content type. */
export function postForm(
  url: string,
  body: string | Record<string, string | string[]>,
  headers: Record<string, string> = {},
): Promise<Answer> {
  let encoded: string
  if (typeof body === 'string') encoded = body
  else {
    const params = new URLSearchParams()
    for (const [name, value] of Object.entries(body)) {
      for (const v of typeof value === 'string' ? [value] : value) params.append(name, v)
    }
    encoded = params.toString()
  }
  return send(url, { method: 'POST', headers: { 'content-type': FORM, ...headers }, body: encoded })
}

/**
 * Sends a client_credentials request with `client_secret_basic` through `server.handle()` (no
 * socket) and resolves to the answer's status.
 */
export function handleTokenRequest(
  server: AuthorizationServer,
  issuer: string,
  credentials: { clientId: string; secret: string },
  options: HandleOptions = {},
): Promise<number> {
  const request = new Request(`${issuer}/token`, {
    method: 'POST',
    headers: {
      authorization: encodeBasicCredentials(credentials.clientId, credentials.secret),
      'content-type': FORM,
    },
    body: 'grant_type=client_credentials',
  })
  return server.handle(request, options).then((response) => response.status)
}

/** The `Authorization` header for `client_secret_basic`. */
export function basic(clientId: string, secret: string): Record<string, string> {
  return { authorization: encodeBasicCredentials(clientId, secret) }
}

/** Asserts an RFC 6749 §5.2 error answer and returns it. */
export function expectOAuthError(answer: Answer, status: number, error: string): Answer {
  if (answer.status !== status || answer.json?.error !== error) {
    throw new Error(`expected ${status} ${error}, got ${answer.status} ${answer.text}`)
  }
  if (answer.headers.get('cache-control') !== 'no-store')
    throw new Error('error answer lacks Cache-Control: no-store')
  if (answer.headers.get('pragma') !== 'no-cache') throw new Error('error answer lacks Pragma: no-cache')
  if (answer.headers.get('content-type') !== 'application/json') throw new Error('error answer is not JSON')
  const description: unknown = answer.json.error_description
  if (typeof description !== 'string' || !/^[\x20\x21\x23-\x5b\x5d-\x7e]*$/.test(description)) {
    throw new Error('error_description is missing or outside the RFC 6749 character set')
  }
  return answer
}
