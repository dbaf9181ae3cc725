/**
 * The `mtls` option checked (RFC 8705), and the rules it sets for client metadata: a
 * `tls_client_auth` client needs the CA (`mtls.ca`), and no mutual-TLS client or certificate-bound
 * client can be registered while mTLS is off.
 *
 * @module mtls-settings
 */
import { X509Certificate } from 'node:crypto'
import { CertificateTrust } from './certificate-trust.js'
import type { ClientMetadata } from './client-metadata.js'
import { fail, isObject } from './field-validation.js'

/** `mtls_endpoint_aliases` (RFC 8705 §5) as the metadata names them. */
export interface MtlsEndpointAliases {
  token_endpoint?: string
  introspection_endpoint?: string
  revocation_endpoint?: string
}

/** The `mtls` option, checked. */
export interface MtlsSettings {
  /** The CAs trusted to issue `tls_client_auth` certificates; `undefined` when none is configured. */
  readonly trust: CertificateTrust | undefined
  /** The same CA certificates as PEM: a TLS listener names them when it asks for a certificate. */
  readonly caPem: readonly string[]
  /** Whether every access token is bound to the certificate of its request. */
  readonly certificateBoundAccessTokens: boolean
  /** The aliases to publish; empty when none is configured. */
  readonly endpointAliases: Readonly<MtlsEndpointAliases>
}

const KEYS: ReadonlySet<string> = new Set(['ca', 'certificateBoundAccessTokens', 'endpointAliases'])
const ALIAS_KEYS: ReadonlyMap<string, keyof MtlsEndpointAliases> = new Map([
  ['token', 'token_endpoint'],
  ['introspection', 'introspection_endpoint'],
  ['revocation', 'revocation_endpoint'],
])
const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g

function readCas(value: unknown): X509Certificate[] {
  const list = typeof value === 'string' ? [value] : value
  if (!Array.isArray(list) || list.length === 0)
    fail('mtls.ca', 'must be PEM text or a non-empty array of it')
  const certificates: X509Certificate[] = []
  list.forEach((pem, i) => {
    const field = typeof value === 'string' ? 'mtls.ca' : `mtls.ca[${i}]`
    if (typeof pem !== 'string') fail(field, 'must be PEM text')
    const blocks = pem.match(PEM_CERTIFICATE)
    if (blocks === null) fail(field, 'holds no PEM certificate (-----BEGIN CERTIFICATE-----)')
    for (const block of blocks) {
      let certificate: X509Certificate
      try {
        certificate = new X509Certificate(block)
      } catch {
        fail(field, 'holds a PEM block that is not an X.509 certificate')
      }
      if (!certificate.ca)
        fail(field, 'holds a certificate that is not a CA certificate (basicConstraints CA:TRUE)')
      certificates.push(certificate)
    }
  })
  return certificates
}

function aliasUrl(value: unknown, field: string): string {
  if (typeof value !== 'string' || !URL.canParse(value)) fail(field, 'must be an absolute URL')
  const url = new URL(value)
  if (url.protocol !== 'https:' && url.protocol !== 'http:') fail(field, 'must be an http or https URL')
  if (value.includes('?') || value.includes('#')) {
    fail(field, 'must not have a query or fragment: requests are routed by path only')
  }
  return value
}

/** Checks the `mtls` option; `undefined` when it is absent (mTLS off). */
export function resolveMtls(value: unknown): MtlsSettings | undefined {
  if (value === undefined) return undefined
  if (!isObject(value)) fail('mtls', 'must be an object')
  for (const key of Object.keys(value)) {
    if (!KEYS.has(key)) fail(`mtls.${key}`, 'is not a known option')
  }
  const cas = value.ca === undefined ? [] : readCas(value.ca)
  const bound = value.certificateBoundAccessTokens ?? false
  if (typeof bound !== 'boolean') fail('mtls.certificateBoundAccessTokens', 'must be a boolean')
  const endpointAliases: MtlsEndpointAliases = {}
  if (value.endpointAliases !== undefined) {
    if (!isObject(value.endpointAliases)) fail('mtls.endpointAliases', 'must be an object')
    for (const [key, url] of Object.entries(value.endpointAliases)) {
      const name = ALIAS_KEYS.get(key)
      if (name === undefined) fail(`mtls.endpointAliases.${key}`, 'is not a known option')
      if (url !== undefined) endpointAliases[name] = aliasUrl(url, `mtls.endpointAliases.${key}`)
    }
  }
  return {
    trust: cas.length === 0 ? undefined : new CertificateTrust(cas),
    caPem: cas.map((c) => c.toString()),
    certificateBoundAccessTokens: bound,
    endpointAliases,
  }
}

/**
 * Fails when `client` needs what the `mtls` option does not give: mTLS at all (a mutual-TLS
 * method, `tls_client_certificate_bound_access_tokens`), or the CA (`tls_client_auth`).
 *
 * @param field Where the client sits (`clients[1]`); `undefined` names the members alone.
 */
export function checkMtlsClient(
  client: ClientMetadata,
  mtls: MtlsSettings | undefined,
  field: string | undefined,
): void {
  const member = (name: string) => (field === undefined ? name : `${field}.${name}`)
  const method = client.token_endpoint_auth_method
  if (method === 'tls_client_auth' && mtls?.trust === undefined) {
    fail(
      member('token_endpoint_auth_method'),
      'tls_client_auth needs the server option mtls.ca (the CAs that issue client certificates)',
    )
  }
  if (method === 'self_signed_tls_client_auth' && mtls === undefined) {
    fail(member('token_endpoint_auth_method'), 'self_signed_tls_client_auth needs the server option mtls')
  }
  if (client.tls_client_certificate_bound_access_tokens === true && mtls === undefined) {
    fail(member('tls_client_certificate_bound_access_tokens'), 'needs the server option mtls')
  }
}
