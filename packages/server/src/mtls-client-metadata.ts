/**
 * The client metadata of mutual-TLS clients (RFC 8705 §2.1.2, §2.2, §3.4): which certificate a
 * `tls_client_auth` client presents, the `x5c` certificates of a `self_signed_tls_client_auth`
 * client, and `tls_client_certificate_bound_access_tokens`.
 *
 * @module mtls-client-metadata
 */
import { X509Certificate } from 'node:crypto'
import type { JWK } from 'jose'
import { invalidMemberValue, TLS_CLIENT_AUTH_MEMBERS } from './certificate-match.js'
import { derThumbprint } from './client-certificate.js'
import { fail, isObject } from './field-validation.js'

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/

/**
 * Checks the mutual-TLS members of one client's metadata.
 *
 * @param value The metadata object (its other members already checked).
 * @param method Its `token_endpoint_auth_method`.
 * @param member Names a member for an error (`clients[1].tls_client_auth_san_dns`).
 */
export function checkMtlsMembers(
  value: Record<string, unknown>,
  method: unknown,
  member: (name: string) => string,
): void {
  const named = TLS_CLIENT_AUTH_MEMBERS.filter((name) => value[name] !== undefined)
  if (method === 'tls_client_auth') {
    // RFC 8705 §2.1.2: exactly one of them says which certificate is the client's.
    if (named.length !== 1) {
      fail(
        member('token_endpoint_auth_method'),
        `tls_client_auth needs exactly one of ${TLS_CLIENT_AUTH_MEMBERS.join(', ')} (${named.length} given)`,
      )
    }
    const name = named[0]!
    const given = value[name]
    if (typeof given !== 'string' || given === '') fail(member(name), 'must be a non-empty string')
    const problem = invalidMemberValue(name, given)
    if (problem !== undefined) fail(member(name), problem)
  } else if (named.length > 0) {
    fail(member(named[0]!), 'is for tls_client_auth clients only')
  }
  if (method === 'self_signed_tls_client_auth') {
    if (value.jwks === undefined && value.jwks_uri === undefined) {
      fail(
        member('jwks'),
        'or jwks_uri is required for self_signed_tls_client_auth (its keys hold the certificates as x5c)',
      )
    }
    if (value.jwks !== undefined && registeredCertificates(value.jwks as { keys: JWK[] }).length === 0) {
      fail(member('jwks'), 'holds no key with an x5c certificate, which self_signed_tls_client_auth matches')
    }
  }
  const keys = isObject(value.jwks) && Array.isArray(value.jwks.keys) ? (value.jwks.keys as unknown[]) : []
  keys.forEach((key, i) => {
    const x5c = isObject(key) ? key.x5c : undefined
    if (x5c === undefined) return
    const field = member(`jwks.keys[${i}].x5c`)
    if (!Array.isArray(x5c) || x5c.length === 0)
      fail(field, 'must be a non-empty array of base64 DER certificates')
    x5c.forEach((entry, j) => {
      if (typeof entry !== 'string' || !BASE64.test(entry))
        fail(`${field}[${j}]`, 'must be base64 (not base64url) DER')
      try {
        new X509Certificate(Buffer.from(entry, 'base64'))
      } catch {
        fail(`${field}[${j}]`, 'is not an X.509 certificate')
      }
    })
  })
  const bound = value.tls_client_certificate_bound_access_tokens
  if (bound !== undefined && typeof bound !== 'boolean') {
    fail(member('tls_client_certificate_bound_access_tokens'), 'must be a boolean')
  }
}

/**
 * The thumbprints (base64url SHA-256 of the DER) of the first `x5c` certificate of each key of a
 * JWK Set: the certificates a `self_signed_tls_client_auth` client may present (RFC 8705 §2.2).
 * Keys without a well-formed `x5c` are skipped.
 */
export function registeredCertificates(jwks: { keys: readonly JWK[] }): string[] {
  const thumbprints: string[] = []
  for (const key of jwks.keys) {
    const first = Array.isArray(key.x5c) ? key.x5c[0] : undefined
    if (typeof first === 'string' && BASE64.test(first))
      thumbprints.push(derThumbprint(Buffer.from(first, 'base64')))
  }
  return thumbprints
}
