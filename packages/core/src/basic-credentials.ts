/**
 * HTTP Basic client credentials as RFC 6749 §2.3.1 defines them: client id and secret are each
 * form-urlencoded (Appendix B) before they are joined with `:` and base64-encoded.
 *
 * @module basic-credentials
 */
import { formUrlDecode, formUrlEncode } from './form-encoding.js'

/** Builds the `Authorization` header value for `client_secret_basic`. */
export function encodeBasicCredentials(clientId: string, clientSecret: string): string {
  const raw = `${formUrlEncode(clientId)}:${formUrlEncode(clientSecret)}`
  return `Basic ${Buffer.from(raw, 'utf8').toString('base64')}`
}

/** Outcome of {@link decodeBasicCredentials}. */
export type BasicCredentialsResult =
  | { ok: true; clientId: string; clientSecret: string }
  | {
      ok: false
      /** Why the header was refused; safe to send back, it never quotes the header. */
      reason: string
    }

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/
const utf8 = new TextDecoder('utf-8', { fatal: true })

/**
 * Parses an `Authorization: Basic …` header value strictly: valid base64, valid UTF-8, a colon,
 * form-urlencoded parts, and neither part empty.
 */
export function decodeBasicCredentials(header: string): BasicCredentialsResult {
  const match = /^basic +([^ ]+) *$/i.exec(header)
  if (!match) return { ok: false, reason: 'malformed Basic authorization header' }
  const token = match[1]!
  if (token.length % 4 !== 0 || !BASE64.test(token)) {
    return { ok: false, reason: 'Basic credentials are not valid base64' }
  }
  let decoded: string
  try {
    decoded = utf8.decode(Buffer.from(token, 'base64'))
  } catch {
    return { ok: false, reason: 'Basic credentials are not valid UTF-8' }
  }
  const colon = decoded.indexOf(':')
  if (colon === -1) return { ok: false, reason: 'Basic credentials lack the colon separator' }
  const clientId = formUrlDecode(decoded.slice(0, colon))
  const clientSecret = formUrlDecode(decoded.slice(colon + 1))
  if (clientId === undefined || clientSecret === undefined) {
    return { ok: false, reason: 'Basic credentials are not form-urlencoded (RFC 6749 section 2.3.1)' }
  }
  if (clientId === '') return { ok: false, reason: 'Basic credentials have an empty client id' }
  if (clientSecret === '') return { ok: false, reason: 'Basic credentials have an empty client secret' }
  return { ok: true, clientId, clientSecret }
}
