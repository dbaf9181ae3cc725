/**
 * The brute-force source follows the proxy-trust setting: behind a named reverse proxy the caller
 * is the address it forwards, so an attacker elsewhere cannot lock out the real client; without
 * that setting X-Forwarded-For is never read. IPv6 sources count per /64.
 */
import { createAuthorizationServer } from '@oauth-m2m/server'
import { describe, expect, it } from 'vitest'
import { sourceGroup } from '../src/source-address.js'
import { basic, handleTokenRequest, postForm, startServer } from './test-server.js'

const SVC = { client_id: 'svc', client_secret: 'svc-secret' }
const RATE_LIMIT = { maxFailures: 2, maxFailuresPerClient: 1000, windowMs: 60_000 }

/** A token request over HTTP as a proxy on 127.0.0.1 would forward it; resolves to the status. */
async function token(url: string, secret: string, forwardedFor?: string): Promise<number> {
  const headers = { ...basic('svc', secret), ...(forwardedFor ? { 'x-forwarded-for': forwardedFor } : {}) }
  return (await postForm(`${url}/token`, { grant_type: 'client_credentials' }, headers)).status
}

describe('trustedProxy', () => {
  it('counts two forwarded callers of a trusted proxy apart: an attacker cannot lock out the real client', async () => {
    const { url } = await startServer({
      clients: [SVC],
      rateLimit: RATE_LIMIT,
      trustedProxy: { addresses: ['127.0.0.1'] },
    })
    expect(await token(url, 'guess-1', '203.0.113.9')).toBe(401)
    expect(await token(url, 'guess-2', '203.0.113.9')).toBe(401)
    expect(await token(url, 'svc-secret', '203.0.113.9')).toBe(429)
    expect(await token(url, 'svc-secret', '198.51.100.7')).toBe(200)
  })

  it('takes the right-most address that is not a trusted proxy, so a caller cannot choose its source', async () => {
    const { url } = await startServer({
      clients: [SVC],
      rateLimit: RATE_LIMIT,
      trustedProxy: { addresses: ['127.0.0.1', '10.0.0.0/8'] },
    })
    // The attacker writes the real client's address first; the proxies append what they saw.
    expect(await token(url, 'guess-1', '198.51.100.7, 203.0.113.9, 10.1.2.3')).toBe(401)
    expect(await token(url, 'guess-2', '198.51.100.7, 203.0.113.9')).toBe(401)
    expect(await token(url, 'svc-secret', '203.0.113.9')).toBe(429)
    expect(await token(url, 'svc-secret', '198.51.100.7, 10.9.9.9')).toBe(200)
  })

  it('counts the proxy itself when X-Forwarded-For holds no IP address', async () => {
    const { url } = await startServer({
      clients: [SVC],
      rateLimit: RATE_LIMIT,
      trustedProxy: { addresses: ['127.0.0.0/8'] },
    })
    expect(await token(url, 'guess-1', 'unknown')).toBe(401)
    expect(await token(url, 'guess-2', '203.0.113.9:4711')).toBe(401)
    // Both counted for the proxy's own address, the same source as a request without the header.
    expect(await token(url, 'svc-secret')).toBe(429)
    expect(await token(url, 'svc-secret', '198.51.100.7')).toBe(200)
  })

  it('is off by default: X-Forwarded-For is ignored and every caller has the peer address', async () => {
    const { url } = await startServer({ clients: [SVC], rateLimit: RATE_LIMIT })
    expect(await token(url, 'guess-1', '203.0.113.1')).toBe(401)
    expect(await token(url, 'guess-2', '203.0.113.2')).toBe(401)
    expect(await token(url, 'svc-secret', '198.51.100.7')).toBe(429)
  })

  it('does not read X-Forwarded-For from a peer that is not a trusted proxy, nor with forwardedFor false', async () => {
    for (const trustedProxy of [
      { addresses: ['192.0.2.1'] },
      { addresses: ['127.0.0.1'], forwardedFor: false },
    ]) {
      const { url } = await startServer({ clients: [SVC], rateLimit: RATE_LIMIT, trustedProxy })
      expect(await token(url, 'guess-1', '203.0.113.1')).toBe(401)
      expect(await token(url, 'guess-2', '203.0.113.2')).toBe(401)
      expect(await token(url, 'svc-secret', '198.51.100.7')).toBe(429)
    }
  })

  it('applies to handle() when remoteAddress is a trusted proxy', async () => {
    const issuer = 'https://as.example.com'
    const server = await createAuthorizationServer({
      issuer,
      clients: [SVC],
      rateLimit: RATE_LIMIT,
      trustedProxy: { addresses: ['10.0.0.0/8'] },
    })
    const token = (secret: string, forwardedFor: string) =>
      server.handle(
        new Request(`${issuer}/token`, {
          method: 'POST',
          headers: {
            ...basic('svc', secret),
            'content-type': 'application/x-www-form-urlencoded',
            'x-forwarded-for': forwardedFor,
          },
          body: 'grant_type=client_credentials',
        }),
        { remoteAddress: '10.0.0.5' },
      )
    expect((await token('guess-1', '203.0.113.9')).status).toBe(401)
    expect((await token('guess-2', '203.0.113.9')).status).toBe(401)
    expect((await token('svc-secret', '203.0.113.9')).status).toBe(429)
    expect((await token('svc-secret', '198.51.100.7')).status).toBe(200)
  })

  it('refuses addresses that are not IP addresses or CIDR blocks, naming the entry', async () => {
    for (const [address, message] of [
      ['proxy.internal', 'trustedProxy.addresses[0] must be an IP address or a CIDR block'],
      ['10.0.0.0/33', 'trustedProxy.addresses[0] has an invalid prefix length'],
      ['fd00::/x', 'trustedProxy.addresses[0] has an invalid prefix length'],
      ['10.0.0.0/8/8', 'trustedProxy.addresses[0] must be an IP address or a CIDR block'],
    ] as const) {
      await expect(
        createAuthorizationServer({ clients: [], trustedProxy: { addresses: [address] } }),
      ).rejects.toThrow(message)
    }
    await expect(createAuthorizationServer({ clients: [], trustedProxy: { addresses: [] } })).rejects.toThrow(
      'trustedProxy.addresses must be a non-empty array',
    )
    await expect(
      createAuthorizationServer({ clients: [], trustedProxy: { addresses: ['::1'], header: 'x' } as never }),
    ).rejects.toThrow('trustedProxy.header is not a known option')
  })
})

describe('source grouping', () => {
  it('counts an IPv6 /64 as one source, an IPv4-mapped address as the IPv4 address', () => {
    expect(sourceGroup('2001:db8:0:1::a')).toBe('2001:db8:0:1::/64')
    expect(sourceGroup('2001:DB8:0000:0001:ffff:ffff:ffff:1')).toBe('2001:db8:0:1::/64')
    expect(sourceGroup('2001:db8:0:2::1')).toBe('2001:db8:0:2::/64')
    expect(sourceGroup('2001:db8::1')).toBe('2001:db8:0:0::/64')
    expect(sourceGroup('::1')).toBe('0:0:0:0::/64')
    expect(sourceGroup('1:2:3:4:5:6:7:8')).toBe('1:2:3:4::/64')
    expect(sourceGroup('fe80::1%eth0')).toBe('fe80:0:0:0::/64')
    expect(sourceGroup('::ffff:192.0.2.1')).toBe('192.0.2.1')
    expect(sourceGroup('::FFFF:c000:201')).toBe('192.0.2.1')
    expect(sourceGroup('192.0.2.1')).toBe('192.0.2.1')
    expect(sourceGroup('')).toBe('')
  })

  it('locks a client id out for a whole IPv6 /64, not for the next /64', async () => {
    const issuer = 'https://as.example.com'
    const server = await createAuthorizationServer({ issuer, clients: [SVC], rateLimit: RATE_LIMIT })
    const token = (secret: string, remoteAddress: string) =>
      handleTokenRequest(server, issuer, { clientId: 'svc', secret }, { remoteAddress })
    expect(await token('guess-1', '2001:db8:0:1::1')).toBe(401)
    expect(await token('guess-2', '2001:db8:0:1::2')).toBe(401)
    expect(await token('svc-secret', '2001:db8:0:1:abcd::3')).toBe(429)
    expect(await token('svc-secret', '2001:db8:0:2::1')).toBe(200)
    // An IPv4-mapped address and the IPv4 address are one source.
    expect(await token('guess-1', '::ffff:192.0.2.1')).toBe(401)
    expect(await token('guess-2', '192.0.2.1')).toBe(401)
    expect(await token('svc-secret', '::ffff:192.0.2.1')).toBe(429)
  })
})
