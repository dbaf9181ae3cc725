/**
 * Whether a presented certificate is the one a `tls_client_auth` client registered (RFC 8705
 * §2.1.2): exactly one of `tls_client_auth_subject_dn`, `tls_client_auth_san_dns`,
 * `tls_client_auth_san_uri`, `tls_client_auth_san_ip`, `tls_client_auth_san_email`.
 *
 * - subject DN: the canonical forms are equal (see `subject-dn`);
 * - DNS name: a dNSName SAN equal to it, case-insensitively, with no wildcard expansion
 *   (`X509Certificate.checkHost` with the subject ignored and wildcards off);
 * - IP address: an iPAddress SAN of the same address (`checkIP`; `::1` equals `0:0::1`);
 * - email: an rfc822Name SAN equal to it (`checkEmail`, the subject ignored);
 * - URI: a uniformResourceIdentifier SAN equal to it, character for character.
 *
 * @module certificate-match
 */
import { isIP } from 'node:net'
import type { PresentedCertificate } from './client-certificate.js'
import { parseRfc4514 } from './subject-dn.js'

/** The registration members that name a `tls_client_auth` client's certificate. */
export const TLS_CLIENT_AUTH_MEMBERS = [
  'tls_client_auth_subject_dn',
  'tls_client_auth_san_dns',
  'tls_client_auth_san_uri',
  'tls_client_auth_san_ip',
  'tls_client_auth_san_email',
] as const

/** One of {@link TLS_CLIENT_AUTH_MEMBERS}. */
export type TlsClientAuthMember = (typeof TLS_CLIENT_AUTH_MEMBERS)[number]

/** Whether a certificate is the registered one. */
export type CertificateMatcher = (certificate: PresentedCertificate) => boolean

/**
 * Why `value` cannot be registered as `member`, or `undefined` when it can. The same rules make
 * {@link certificateMatcher} safe to call on a registered value.
 */
export function invalidMemberValue(member: TlsClientAuthMember, value: string): string | undefined {
  switch (member) {
    case 'tls_client_auth_subject_dn':
      return parseRfc4514(value) === undefined
        ? 'must be an RFC 4514 distinguished name such as "CN=orders,O=Example,C=DE" (hex-encoded values are not supported)'
        : undefined
    case 'tls_client_auth_san_ip':
      return isIP(value) === 0 ? 'must be an IPv4 or IPv6 address' : undefined
    case 'tls_client_auth_san_uri':
      return URL.canParse(value) ? undefined : 'must be an absolute URI'
    case 'tls_client_auth_san_dns':
      return /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(value)
        ? undefined
        : 'must be a DNS name'
    case 'tls_client_auth_san_email':
      return /^[^\s@]+@[^\s@]+$/.test(value) ? undefined : 'must be an email address'
  }
}

/**
 * The URIs among the subject alternative names, as node renders them in `subjectAltName`:
 * `kind:value` entries joined by ", ", a value that holds a separator written as a JSON string.
 */
export function sanUris(subjectAltName: string | undefined): string[] {
  const uris: string[] = []
  if (subjectAltName === undefined) return uris
  let i = 0
  while (i < subjectAltName.length) {
    const colon = subjectAltName.indexOf(':', i)
    if (colon === -1) break
    const kind = subjectAltName.slice(i, colon)
    let value: string
    let end: number
    if (subjectAltName[colon + 1] === '"') {
      // A JSON string: ends at the first quote that no backslash escapes.
      end = colon + 2
      while (end < subjectAltName.length && subjectAltName[end] !== '"')
        end += subjectAltName[end] === '\\' ? 2 : 1
      try {
        value = JSON.parse(subjectAltName.slice(colon + 1, end + 1)) as string
      } catch {
        return uris
      }
      end += 1
    } else {
      end = subjectAltName.indexOf(', ', colon)
      if (end === -1) end = subjectAltName.length
      value = subjectAltName.slice(colon + 1, end)
    }
    if (kind === 'URI') uris.push(value)
    i = end + 2
  }
  return uris
}

/** The matcher of a registered (valid) value. */
export function certificateMatcher(member: TlsClientAuthMember, value: string): CertificateMatcher {
  switch (member) {
    case 'tls_client_auth_subject_dn': {
      const expected = parseRfc4514(value)
      return (c) => c.subjectDn !== undefined && c.subjectDn === expected
    }
    case 'tls_client_auth_san_dns':
      return (c) =>
        c.x509.checkHost(value, { subject: 'never', wildcards: false, partialWildcards: false }) !== undefined
    case 'tls_client_auth_san_ip':
      return (c) => c.x509.checkIP(value) !== undefined
    case 'tls_client_auth_san_email':
      return (c) => c.x509.checkEmail(value, { subject: 'never' }) !== undefined
    case 'tls_client_auth_san_uri':
      return (c) => sanUris(c.x509.subjectAltName).includes(value)
  }
}
