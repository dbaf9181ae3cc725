/**
 * Reads a token request's parameters so a profile can apply its provider's rules, and builds the
 * rewritten request the reference server then answers. The original request is left unread: when
 * a body is too large or not a form, it goes to the server as sent, whose answer (413, 400) is the
 * right one.
 *
 * @module profiles/token-request-body
 */
import { decodeBasicCredentials, parseForm } from '@oauth-m2m/core/internal'
import { mediaTypeOf } from '../body-parameters.js'
import { readBodyText } from '../request-body.js'

const FORM = 'application/x-www-form-urlencoded'

/** The media type of `request`, lower case, without parameters; `''` when there is none. */
export function mediaType(request: Request): string {
  return mediaTypeOf(request.headers.get('content-type'))
}

/** Whether `request` is a POST to `endpoint` (compared by path, as the server's router does). */
export function isPostTo(request: Request, endpoint: string): boolean {
  return request.method === 'POST' && new URL(request.url).pathname === new URL(endpoint).pathname
}

/**
 * The parameters of a form-encoded request, or `undefined` when the body is not one a profile can
 * read (the server answers it then).
 *
 * @param maxBodyBytes The server's `maxBodyBytes`: a larger body is not read.
 */
export async function readForm(request: Request, maxBodyBytes: number): Promise<URLSearchParams | undefined> {
  if (mediaType(request) !== FORM) return undefined
  const text = await readBodyText(request, maxBodyBytes)
  if (text === undefined) return undefined
  const parsed = parseForm(text)
  if (parsed === undefined) return undefined
  const form = new URLSearchParams()
  for (const [name, values] of parsed) for (const value of values) form.append(name, value)
  return form
}

/** `request` with `form` as its body (form-encoded), every other header kept. */
export function withForm(request: Request, form: URLSearchParams): Request {
  const headers = new Headers(request.headers)
  headers.set('content-type', FORM)
  headers.delete('content-length')
  return new Request(request.url, {
    method: request.method,
    headers,
    body: form.toString(),
    signal: request.signal,
  })
}

/**
 * The client id a token request names: from `Authorization: Basic`, else the `client_id`
 * parameter; `undefined` when neither is there or the header is malformed.
 */
export function requestClientId(request: Request, form: URLSearchParams): string | undefined {
  const authorization = request.headers.get('authorization')
  if (authorization !== null && /^basic /i.test(authorization)) {
    const credentials = decodeBasicCredentials(authorization)
    return credentials.ok ? credentials.clientId : undefined
  }
  return form.get('client_id') ?? undefined
}
