/**
 * Distinguished names for `tls_client_auth_subject_dn` (RFC 8705 §2.1.2): the registered value is
 * an RFC 4514 string, compared with the subject of the presented certificate as node:crypto's
 * `X509Certificate.subject` renders it (one RDN a line, in DER order, multi-valued RDNs joined with
 * " + ", special characters backslash-escaped). Both sides become one canonical form:
 *
 * - RDNs in DER order (an RFC 4514 string lists them last first, so it is reversed);
 * - attribute types upper case, with the dotted OIDs and aliases of the common types mapped to one
 *   name (`2.5.4.3` = `CN`, `E` = `emailAddress` = `1.2.840.113549.1.9.1`, …);
 * - values unescaped, leading and trailing spaces dropped, inner runs of white space made one space,
 *   and compared without regard to case (LDAP's caseIgnoreMatch, RFC 4517 §4.2.11, simplified to
 *   Unicode lower-casing);
 * - the attributes of a multi-valued RDN sorted (their order carries no meaning).
 *
 * Hex-encoded values (`CN=#0403...`, RFC 4514 §2.4) are refused at registration: a DER value the
 * server would have to decode is what node's rendering never shows.
 *
 * @module subject-dn
 */

/** The canonical form of a DN: one string, equal for equal names. */
export type CanonicalDn = string

const TYPE_ALIASES: ReadonlyMap<string, string> = new Map([
  ['2.5.4.3', 'CN'],
  ['COMMONNAME', 'CN'],
  ['2.5.4.4', 'SN'],
  ['SURNAME', 'SN'],
  ['2.5.4.5', 'SERIALNUMBER'],
  ['2.5.4.6', 'C'],
  ['COUNTRYNAME', 'C'],
  ['2.5.4.7', 'L'],
  ['LOCALITYNAME', 'L'],
  ['2.5.4.8', 'ST'],
  ['S', 'ST'],
  ['STATEORPROVINCENAME', 'ST'],
  ['2.5.4.9', 'STREET'],
  ['STREETADDRESS', 'STREET'],
  ['2.5.4.10', 'O'],
  ['ORGANIZATIONNAME', 'O'],
  ['2.5.4.11', 'OU'],
  ['ORGANIZATIONALUNITNAME', 'OU'],
  ['2.5.4.12', 'TITLE'],
  ['2.5.4.42', 'GN'],
  ['GIVENNAME', 'GN'],
  ['0.9.2342.19200300.100.1.25', 'DC'],
  ['DOMAINCOMPONENT', 'DC'],
  ['0.9.2342.19200300.100.1.1', 'UID'],
  ['USERID', 'UID'],
  ['1.2.840.113549.1.9.1', 'EMAILADDRESS'],
  ['E', 'EMAILADDRESS'],
  ['EMAIL', 'EMAILADDRESS'],
])

const TYPE_NAME = /^(?:[A-Za-z][A-Za-z0-9-]*|\d+(?:\.\d+)+)$/

/** Splits `text` at each unescaped `separator` (a backslash escapes the next character). */
function splitUnescaped(text: string, separator: string): string[] {
  const parts: string[] = []
  let start = 0
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\\') i++
    else if (text.startsWith(separator, i)) {
      parts.push(text.slice(start, i))
      start = i + separator.length
      i += separator.length - 1
    }
  }
  parts.push(text.slice(start))
  return parts
}

/**
 * Undoes RFC 4514 §2.4 escaping: `\` followed by a special character, or by two hex digits (one
 * UTF-8 byte). `undefined` when an escape is malformed.
 */
function unescapeValue(text: string): string | undefined {
  const bytes: number[] = []
  const encoder = new TextEncoder()
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!
    if (char !== '\\') {
      const code = text.codePointAt(i)!
      if (code > 0xffff) i++
      bytes.push(...encoder.encode(String.fromCodePoint(code)))
      continue
    }
    const next = text.slice(i + 1, i + 3)
    if (/^[0-9A-Fa-f]{2}$/.test(next)) {
      bytes.push(Number.parseInt(next, 16))
      i += 2
    } else if (i + 1 < text.length) {
      bytes.push(...encoder.encode(text[i + 1]!))
      i++
    } else return undefined
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(new Uint8Array(bytes))
  } catch {
    return undefined
  }
}

function canonicalType(type: string): string | undefined {
  const trimmed = type.trim()
  const name = trimmed.toUpperCase().replace(/^OID\./, '')
  if (!TYPE_NAME.test(name)) return undefined
  return TYPE_ALIASES.get(name) ?? name
}

function canonicalValue(value: string): string {
  return value.trim().replace(/\s+/g, ' ').toLowerCase()
}

/** One attribute `type=value` in canonical form, or `undefined` when malformed. */
function canonicalAttribute(text: string): string | undefined {
  const [type, ...rest] = splitUnescaped(text, '=')
  if (type === undefined || rest.length === 0) return undefined
  const raw = rest.join('=').trim()
  if (raw.startsWith('#')) return undefined
  const canonicalName = canonicalType(type)
  const value = unescapeValue(raw)
  if (canonicalName === undefined || value === undefined || value.trim() === '') return undefined
  // JSON-quoted, so that no value can forge a separator of the canonical form.
  return `${canonicalName}=${JSON.stringify(canonicalValue(value))}`
}

function canonicalRdn(text: string, separator: string): string | undefined {
  const attributes: string[] = []
  for (const part of splitUnescaped(text, separator)) {
    const attribute = canonicalAttribute(part)
    if (attribute === undefined) return undefined
    attributes.push(attribute)
  }
  return attributes.sort().join('+')
}

function canonicalDn(rdns: readonly string[], separator: string): CanonicalDn | undefined {
  const canonical: string[] = []
  for (const rdn of rdns) {
    const value = canonicalRdn(rdn, separator)
    if (value === undefined) return undefined
    canonical.push(value)
  }
  return canonical.join(',')
}

/**
 * The canonical form of an RFC 4514 string (`CN=orders,O=Example,C=DE`), or `undefined` when it is
 * not one this server can compare (empty, malformed, or with a hex-encoded value).
 */
export function parseRfc4514(dn: string): CanonicalDn | undefined {
  if (dn.trim() === '') return undefined
  // RFC 4514 §2.1: the string lists the RDNs starting with the last one of the DER sequence.
  return canonicalDn(splitUnescaped(dn, ',').reverse(), '+')
}

/**
 * The canonical form of a subject as node:crypto's `X509Certificate.subject` renders it, or
 * `undefined` when it holds something this module cannot read (then no registration matches).
 */
export function nodeSubjectDn(subject: string): CanonicalDn | undefined {
  if (subject === '') return undefined
  return canonicalDn(subject.split('\n'), ' + ')
}
