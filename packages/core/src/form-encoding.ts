/**
 * `application/x-www-form-urlencoded` encoding and decoding (RFC 6749 Appendix B, WHATWG URL).
 *
 * @module form-encoding
 */

/** A form body: each name maps to one value, several values, or nothing (left out). */
export type FormParams = Record<string, string | readonly string[] | undefined>

/**
 * Encodes one value the way RFC 6749 Appendix B asks: UTF-8, then the WHATWG
 * `application/x-www-form-urlencoded` byte serializer (space becomes `+`).
 */
export function formUrlEncode(value: string): string {
  return encodeURIComponent(value)
    .replace(/[!'()~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+')
}

/**
 * Decodes one form-urlencoded value. Returns `undefined` when the value is not valid
 * form-urlencoding (a stray `%`, or bytes that are not UTF-8), so callers can refuse it.
 */
export function formUrlDecode(value: string): string | undefined {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '))
  } catch {
    return undefined
  }
}

/** Serializes parameters into a form body; array values repeat the name, `undefined` is left out. */
export function encodeForm(params: FormParams): string {
  const parts: string[] = []
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined) continue
    const values = typeof value === 'string' ? [value] : value
    for (const v of values) parts.push(`${formUrlEncode(name)}=${formUrlEncode(v)}`)
  }
  return parts.join('&')
}

/**
 * Parses a form body into every value of every name, in order, so that callers can refuse
 * repeated parameters (RFC 6749 §3.2) or accept them where a spec allows it (RFC 8707 `resource`).
 * Returns `undefined` when any part is not valid form-urlencoding.
 */
export function parseForm(body: string): Map<string, string[]> | undefined {
  const out = new Map<string, string[]>()
  if (body === '') return out
  for (const part of body.split('&')) {
    if (part === '') continue
    const eq = part.indexOf('=')
    const name = formUrlDecode(eq === -1 ? part : part.slice(0, eq))
    const value = formUrlDecode(eq === -1 ? '' : part.slice(eq + 1))
    if (name === undefined || value === undefined) return undefined
    const list = out.get(name)
    if (list) list.push(value)
    else out.set(name, [value])
  }
  return out
}
