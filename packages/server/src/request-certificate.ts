/**
 * Which client certificate a request carries (RFC 8705): from a trusted proxy, the one in its
 * RFC 9440 header (when `trustedProxy.certificateHeader` is set), never its own TLS certificate;
 * from anyone else, the certificate of the TLS connection (or the one the host of `handle()`
 * gave), and any such header is ignored, as a caller can write it.
 *
 * @module request-certificate
 */
import type { X509Certificate } from 'node:crypto'
import type { TLSSocket } from 'node:tls'
import { parseClientCertHeader } from '@oauth-m2m/core/internal'
import { isTrustedPeer, type TrustedProxies } from './source-address.js'

/**
 * The client certificate of a request.
 *
 * @param peer The request's peer address (the socket's, or `remoteAddress` given to `handle()`).
 * @param header Reads a request header (lower-case name); repeats joined with ", ".
 * @param own The certificate of the connection itself, read only when it is the one to use.
 */
export function requestCertificate(
  peer: string | undefined,
  header: (name: string) => string | undefined,
  trusted: TrustedProxies | undefined,
  own: () => X509Certificate | undefined,
): X509Certificate | undefined {
  const name = trusted?.certificateHeader
  if (name !== undefined && isTrustedPeer(peer, trusted)) return parseClientCertHeader(header(name))
  return own()
}

const socketCertificates = new WeakMap<TLSSocket, X509Certificate | null>()

/**
 * The certificate the TLS peer presented, read once per connection (node makes a new object on
 * every call, and the server caches what it derives per object); `undefined` on a plain socket.
 */
export function peerCertificate(socket: TLSSocket | { encrypted?: undefined }): X509Certificate | undefined {
  if (socket.encrypted !== true) return undefined
  const tlsSocket = socket as TLSSocket
  let certificate = socketCertificates.get(tlsSocket)
  if (certificate === undefined) {
    certificate = tlsSocket.getPeerX509Certificate() ?? null
    socketCertificates.set(tlsSocket, certificate)
  }
  return certificate ?? undefined
}
