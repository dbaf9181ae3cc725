/**
 * Which client certificate a request came with, for certificate-bound tokens (RFC 8705 §3): from
 * a trusted TLS-terminating proxy, the one in its RFC 9440 `Client-Cert` header (the proxy's own
 * TLS certificate is not the client's); from anyone else, the certificate of the TLS connection,
 * and the header is ignored, since any caller can write it. As the server's `trustedProxy` does.
 *
 * @module middleware/client-certificate
 */
import type { X509Certificate } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { BlockList, isIP } from 'node:net'
import type { TLSSocket } from 'node:tls'
import { ConfigurationError } from '@oauth-m2m/core'
import { parseClientCertHeader } from '@oauth-m2m/core/internal'

/** The proxies whose RFC 9440 `Client-Cert` header this resource server believes. */
export interface TrustedProxyOptions {
  /**
   * The proxies: IP addresses (`10.0.0.7`, `::1`) and CIDR blocks (`10.0.0.0/8`, `fd00::/8`). IPv4
   * entries also match IPv4-mapped IPv6 peers (`::ffff:10.0.0.7`). Required, non-empty.
   */
  addresses: readonly string[]
  /**
   * The header in which these proxies forward the client certificate of the TLS connection they
   * terminated, as RFC 9440 defines `Client-Cert`: a structured-field byte sequence holding the
   * DER certificate (`:MIIB…:`). Usually `client-cert`. Read only on requests whose peer is one
   * of `addresses`; a malformed value counts as no certificate (RFC 8941 §4.2). Required.
   */
  certificateHeader: string
}

/** {@link TrustedProxyOptions} checked. */
export interface TrustedProxySettings {
  readonly addresses: BlockList
  /** Lower case, as node keys headers and `Headers.get` accepts. */
  readonly certificateHeader: string
}

/** An HTTP field name (RFC 9110 §5.1: a token), lower case. */
const FIELD_NAME = /^[!#$%&'*+.^_`|~0-9a-z-]+$/

/** Checks `trustedProxy`; node:net parses every address and prefix. */
export function resolveTrustedProxy(
  value: TrustedProxyOptions | undefined,
): TrustedProxySettings | undefined {
  if (value === undefined) return undefined
  const field = 'bearer auth: trustedProxy'
  if (typeof value !== 'object' || value === null) throw new ConfigurationError(`${field} must be an object`)
  const list = value.addresses as unknown
  if (!Array.isArray(list) || list.length === 0) {
    throw new ConfigurationError(`${field}.addresses must be a non-empty array`)
  }
  const addresses = new BlockList()
  list.forEach((entry: unknown, i) => {
    const at = `${field}.addresses[${i}]`
    if (typeof entry !== 'string') throw new ConfigurationError(`${at} must be a string`)
    const [address = '', prefix, extra] = entry.split('/')
    const version = isIP(address)
    if (version === 0 || extra !== undefined) {
      throw new ConfigurationError(`${at} must be an IP address or a CIDR block`)
    }
    const family = version === 4 ? 'ipv4' : 'ipv6'
    if (prefix === undefined) {
      addresses.addAddress(address, family)
      return
    }
    const max = version === 4 ? 32 : 128
    if (!/^\d{1,3}$/.test(prefix) || Number(prefix) > max) {
      throw new ConfigurationError(`${at} has an invalid prefix length (0-${max})`)
    }
    addresses.addSubnet(address, Number(prefix), family)
  })
  const header = value.certificateHeader as unknown
  if (typeof header !== 'string' || !FIELD_NAME.test(header.toLowerCase())) {
    throw new ConfigurationError(
      `${field}.certificateHeader must be an HTTP header name such as "client-cert"`,
    )
  }
  return { addresses, certificateHeader: header.toLowerCase() }
}

const IPV4_MAPPED = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i

/** Whether `peer` (a socket's remote address, or one the caller gave) is a trusted proxy. */
export function isTrustedProxy(peer: string | undefined, trusted: TrustedProxySettings): boolean {
  if (peer === undefined) return false
  const mapped = IPV4_MAPPED.exec(peer)
  if (mapped) return trusted.addresses.check(mapped[1]!, 'ipv4')
  const version = isIP(peer)
  if (version === 0) return false
  return trusted.addresses.check(peer, version === 4 ? 'ipv4' : 'ipv6')
}

const socketCertificates = new WeakMap<TLSSocket, X509Certificate | null>()

/**
 * The certificate the TLS peer presented, read once per connection (node builds a new object on
 * every call, and the thumbprint is cached per object); `undefined` on a plain socket.
 */
export function peerCertificate(socket: TLSSocket | { encrypted?: unknown }): X509Certificate | undefined {
  if (socket.encrypted !== true) return undefined
  const tls = socket as TLSSocket
  let certificate = socketCertificates.get(tls)
  if (certificate === undefined) {
    certificate = tls.getPeerX509Certificate() ?? null
    socketCertificates.set(tls, certificate)
  }
  return certificate ?? undefined
}

/**
 * The client certificate of a node request: a trusted proxy's header, else the TLS peer's.
 * `undefined` on a plain connection with no proxy trusted, without reading anything.
 */
export function nodeClientCertificate(
  req: IncomingMessage,
  trusted: TrustedProxySettings | undefined,
): X509Certificate | undefined {
  const socket = req.socket
  if (trusted !== undefined && isTrustedProxy(socket.remoteAddress, trusted)) {
    const value = req.headers[trusted.certificateHeader]
    // Two header lines are two certificates: none is the client's.
    return typeof value === 'string' ? parseClientCertHeader(value) : undefined
  }
  return peerCertificate(socket as TLSSocket)
}

/** What the host of a web-standard handler knows of the connection, which `Request` does not carry. */
export interface WebConnection {
  /**
   * The address the request arrived from (the TCP peer), compared with `trustedProxy.addresses`.
   * Without it the `trustedProxy` header is never read.
   */
  remoteAddress?: string | undefined
  /** The certificate the TLS peer presented, when the host terminates TLS itself. */
  clientCertificate?: X509Certificate | undefined
}

/** The client certificate of a web `Request`: a trusted proxy's header, else the connection's. */
export function webClientCertificate(
  request: Request,
  trusted: TrustedProxySettings | undefined,
  connection: WebConnection | undefined,
): X509Certificate | undefined {
  if (trusted !== undefined && isTrustedProxy(connection?.remoteAddress, trusted)) {
    // `Headers` joins repeated lines with ", ", which never parses as one byte sequence.
    return parseClientCertHeader(request.headers.get(trusted.certificateHeader) ?? undefined)
  }
  return connection?.clientCertificate
}
