/**
 * The one transport rule of every package (RFC 6749 §1.6, §3.1, §3.2; RFC 8414 §2): credentials
 * and tokens travel over TLS, except to the loopback interface, where plain http cannot be seen
 * by anyone else on the network and is what local development and test suites use.
 *
 * @module transport-security
 */

/**
 * True when a URL's `hostname` names the loopback interface: `localhost`, any address of
 * 127.0.0.0/8, or `[::1]` (WHATWG URL keeps the brackets; a bare `::1` is accepted too, for
 * listen addresses).
 */
export function isLoopbackHostname(hostname: string): boolean {
  if (hostname === 'localhost' || hostname === '[::1]' || hostname === '::1') return true
  const octets = hostname.split('.')
  return (
    octets.length === 4 &&
    octets[0] === '127' &&
    octets.every((octet) => /^\d{1,3}$/.test(octet) && Number(octet) <= 255)
  )
}

/** True when `url` is `https:`, or `http:` to a loopback host (see {@link isLoopbackHostname}). */
export function isSecureTransport(url: URL): boolean {
  return url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHostname(url.hostname))
}
