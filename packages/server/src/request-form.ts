/**
 * The form body of a POST endpoint (RFC 6749 §3.2): `application/x-www-form-urlencoded` only, not
 * empty, no repeated parameter except those a spec allows to repeat (RFC 8707 `resource`), and
 * empty values treated as omitted (RFC 6749 §3.1).
 *
 * @module request-form
 */
import { formUrlDecode } from '@oauth-m2m/core/internal'
import { type EndpointResponse, oauthError } from './http-response.js'

/** Parameters of a request body, each name with its non-empty values. */
export type FormParams = ReadonlyMap<string, readonly string[]>

/** Outcome of {@link readForm}: the parameters, or the 400 to answer with. */
export type FormResult =
  | { params: FormParams; error?: undefined }
  | { params?: undefined; error: EndpointResponse }

const FORM_TYPE = 'application/x-www-form-urlencoded'
const REPEATABLE = new Set(['resource'])
/** Names that may be quoted in an error description; anything else is request data. */
const KNOWN_NAMES = new Set([
  'grant_type',
  'scope',
  'client_id',
  'client_secret',
  'client_assertion',
  'client_assertion_type',
  'token',
  'token_type_hint',
])

function isFormContentType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false
  if (contentType === FORM_TYPE) return true
  const [mediaType, ...params] = contentType.split(';')
  if (mediaType?.trim().toLowerCase() !== FORM_TYPE) return false
  for (const param of params) {
    const [name, value] = param.split('=')
    if (
      name?.trim().toLowerCase() === 'charset' &&
      value?.trim().replace(/"/g, '').toLowerCase() !== 'utf-8'
    ) {
      return false
    }
  }
  return true
}

function invalidRequest(description: string): FormResult {
  return { error: oauthError(400, 'invalid_request', description) }
}

/** Decodes a name or value; the fast path skips decoding when there is nothing to decode. */
function decodePart(part: string): string | undefined {
  return part.includes('%') || part.includes('+') ? formUrlDecode(part) : part
}

function repeated(name: string): FormResult {
  return invalidRequest(
    KNOWN_NAMES.has(name)
      ? `the parameter ${name} is repeated`
      : 'a parameter is repeated (RFC 6749 section 3.2)',
  )
}

/**
 * Checks the content type and parses the body of a POST to a form endpoint, in one pass: this
 * runs for every token request.
 */
export function readForm(contentType: string | undefined, body: string): FormResult {
  if (!isFormContentType(contentType)) {
    return invalidRequest('the request body must be application/x-www-form-urlencoded (UTF-8)')
  }
  if (body === '') return invalidRequest('the request body is empty')
  const params = new Map<string, string[]>()
  for (const part of body.split('&')) {
    if (part === '') continue
    const eq = part.indexOf('=')
    const name = decodePart(eq === -1 ? part : part.slice(0, eq))
    const value = eq === -1 ? '' : decodePart(part.slice(eq + 1))
    if (name === undefined || value === undefined) {
      return invalidRequest('the request body is not valid form-urlencoding')
    }
    // RFC 6749 §3.1: a parameter without a value is treated as omitted.
    if (value === '') continue
    const values = params.get(name)
    if (values === undefined) params.set(name, [value])
    else if (REPEATABLE.has(name)) values.push(value)
    else return repeated(name)
  }
  return { params }
}

/** The one value of a parameter that may not repeat. */
export function single(params: FormParams, name: string): string | undefined {
  return params.get(name)?.[0]
}
