/**
 * Scrubbing the client's own credentials out of text an answer carried. A server may echo what it
 * was sent (`invalid_client: wrong secret hunter2`, an `error_uri` with the request in its query,
 * a content type built from a header): whatever it says, a secret or an assertion this process
 * sent must not reach an error message, a property, a log line or a diagnostics payload.
 *
 * The rule, written once: every sensitive string is removed raw, form-urlencoded and
 * percent-encoded (the forms it travels in and is echoed in), and a compact JWT also by each of
 * its segments (a server may quote only the signature or the payload it failed on).
 *
 * @module redaction
 */
import { formUrlEncode } from './form-encoding.js'

/** What replaces a credential in scrubbed text. */
export const REDACTED = '[redacted]'

/** Removes known credentials from server text. */
export interface Redactor {
  /** `text` with every known credential replaced by {@link REDACTED}. */
  redact(text: string): string
  /** Same, passing `undefined` through. */
  redact(text: string | undefined): string | undefined
}

const COMPACT_JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/

function escapeRegExp(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

function formsOf(value: string): string[] {
  const forms = [value, formUrlEncode(value), encodeURIComponent(value)]
  if (COMPACT_JWT.test(value)) forms.push(...value.split('.'))
  return forms
}

/** A redactor that removes nothing: for requests that sent no credential. */
export const NO_REDACTION: Redactor = {
  redact: ((text: string | undefined) => text) as Redactor['redact'],
}

/**
 * A {@link Redactor} for `sensitive`: the credential strings a request sent (a secret, a Basic
 * credential, an assertion). Empty strings are ignored.
 */
export function createRedactor(sensitive: Iterable<string>): Redactor {
  const forms = new Set<string>()
  for (const value of sensitive) {
    if (typeof value !== 'string' || value === '') continue
    for (const form of formsOf(value)) if (form !== '') forms.add(form)
  }
  if (forms.size === 0) return NO_REDACTION
  // Longest first, one pass: a credential inside a longer one (a segment of a JWT) never leaves a
  // remainder of the longer one behind.
  const pattern = new RegExp(
    [...forms]
      .sort((a, b) => b.length - a.length)
      .map(escapeRegExp)
      .join('|'),
    'g',
  )
  return {
    redact: ((text: string | undefined) =>
      typeof text === 'string' ? text.replace(pattern, REDACTED) : text) as Redactor['redact'],
  }
}
