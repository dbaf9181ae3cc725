/**
 * The source of a request for brute-force protection: the socket's peer, or, when that peer is a
 * reverse proxy the operator named as trusted, the client address it forwarded in
 * `X-Forwarded-For`. Sources are grouped as one host usually holds them: an IPv6 address by its
 * /64 (else one host would have 2^64 sources), an IPv4-mapped IPv6 address as its IPv4 address.
 *
 * @module source-address
 */
import { type BlockList, isIP, SocketAddress } from 'node:net'

/** The proxy-trust setting, validated. */
export interface TrustedProxies {
  /** The proxies' addresses and blocks. */
  readonly addresses: BlockList
  /** Whether `X-Forwarded-For` of their requests names the caller. */
  readonly forwardedFor: boolean
  /** The header their requests carry the client certificate in (RFC 9440), lower case; none when unset. */
  readonly certificateHeader: string | undefined
}

/** An IP address in canonical form with its family, IPv4-mapped IPv6 turned into IPv4. */
interface IpAddress {
  address: string
  family: 'ipv4' | 'ipv6'
}

const IPV4_MAPPED = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/

function parseIp(text: string): IpAddress | undefined {
  const version = isIP(text)
  if (version === 4) return { address: text, family: 'ipv4' }
  if (version !== 6) return undefined
  // SocketAddress prints the address canonically (RFC 5952: lower case, `::` compression, no
  // zone), which makes equal addresses equal strings.
  const canonical = new SocketAddress({ address: text, family: 'ipv6' }).address
  const mapped = IPV4_MAPPED.exec(canonical)
  return mapped ? { address: mapped[1]!, family: 'ipv4' } : { address: canonical, family: 'ipv6' }
}

/** The first four groups (64 bits) of a canonical IPv6 address. */
function first64Bits(canonical: string): string {
  const [head = '', tail] = canonical.split('::')
  const headGroups = head === '' ? [] : head.split(':')
  if (tail === undefined) return headGroups.slice(0, 4).join(':')
  // A dotted IPv4 tail holds two groups.
  const tailGroupCount = tail === '' ? 0 : tail.split(':').reduce((n, g) => n + (g.includes('.') ? 2 : 1), 0)
  const zeros = new Array<string>(8 - headGroups.length - tailGroupCount).fill('0')
  const tailGroups = tail === '' ? [] : tail.split(':')
  return [...headGroups, ...zeros, ...tailGroups].slice(0, 4).join(':')
}

/**
 * The brute-force source `address` counts as: an IPv4 address as is (IPv4-mapped IPv6 included),
 * an IPv6 address as its /64 (`2001:db8:0:1::/64`), anything that is no IP address unchanged.
 */
export function sourceGroup(address: string): string {
  const ip = parseIp(address)
  if (ip === undefined) return address
  return ip.family === 'ipv4' ? ip.address : `${first64Bits(ip.address)}::/64`
}

/**
 * Where a request came from, as the rate limiter counts it.
 *
 * @param peer The address the request arrived from (the socket's peer, or `remoteAddress` given
 *   to `handle()`); `undefined` or `''` when unknown.
 * @param forwardedFor The request's `X-Forwarded-For` header (repeats joined with `,`), if any.
 * @param trusted The proxy-trust setting; without it the header is never read.
 */
export function requestSource(
  peer: string | undefined,
  forwardedFor: string | undefined,
  trusted: TrustedProxies | undefined,
): string {
  if (peer === undefined || peer === '') return ''
  if (trusted?.forwardedFor !== true || forwardedFor === undefined) return sourceGroup(peer)
  const peerIp = parseIp(peer)
  if (peerIp === undefined || !isTrusted(peerIp, trusted)) return sourceGroup(peer)
  // Right to left: each trusted proxy appends the address it received from. The first address
  // that is not a trusted proxy is the caller; what lies left of it, the caller could have written.
  const hops = forwardedFor.split(',')
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = parseIp(hops[i]!.trim())
    if (hop === undefined) return sourceGroup(peer)
    if (!isTrusted(hop, trusted) || i === 0) return sourceGroup(hop.address)
  }
  return sourceGroup(peer)
}

/** Whether `peer` (a socket's peer address, or `remoteAddress` given to `handle()`) is a trusted proxy. */
export function isTrustedPeer(peer: string | undefined, trusted: TrustedProxies | undefined): boolean {
  if (trusted === undefined || peer === undefined) return false
  const ip = parseIp(peer)
  return ip !== undefined && isTrusted(ip, trusted)
}

function isTrusted(ip: IpAddress, trusted: TrustedProxies): boolean {
  return trusted.addresses.check(ip.address, ip.family)
}
