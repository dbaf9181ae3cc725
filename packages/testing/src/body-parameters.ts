/**
 * The parameters a request body carries, as one reads them before the server does: a form
 * (`application/x-www-form-urlencoded`), or a JSON object, which Auth0's token endpoint takes as
 * well as a form.
 *
 * @module body-parameters
 */
import { parseForm } from '@oauth-m2m/core/internal'
import { type BoundedBody, utf8Text } from './request-body.js'

/** The media type of a `content-type` value, lower case, without parameters; `''` for none. */
export function mediaTypeOf(contentType: string | null): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase()
}

/**
 * The members of a JSON object as parameters: strings, numbers and booleans as their text, `null`
 * members left out. `undefined` when `text` is not a JSON object, or a member is an object or an
 * array (no provider's token request has one).
 */
export function jsonObjectParameters(text: string): Map<string, string[]> | undefined {
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    return undefined
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined
  const params = new Map<string, string[]>()
  for (const [name, value] of Object.entries(body)) {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
      params.set(name, [String(value)])
    } else if (value !== null) {
      return undefined
    }
  }
  return params
}

/**
 * The parameters of a body read within the bound: a form's, or a JSON object's (see
 * {@link jsonObjectParameters}). `undefined` for a body of another type, over the limit, not
 * UTF-8 or malformed.
 */
export function bodyParameters(
  contentType: string | null,
  body: BoundedBody | undefined,
): Map<string, string[]> | undefined {
  if (body === undefined || body.overflowed) return undefined
  const text = utf8Text(body.bytes)
  return text === undefined ? undefined : textParameters(contentType, text)
}

/**
 * The parameters of a body given as text: a form's, or a JSON object's (see
 * {@link jsonObjectParameters}); `undefined` for another type or a malformed body.
 */
export function textParameters(contentType: string | null, text: string): Map<string, string[]> | undefined {
  const type = mediaTypeOf(contentType)
  if (type === 'application/json') return jsonObjectParameters(text)
  return type === 'application/x-www-form-urlencoded' ? parseForm(text) : undefined
}
