/**
 * Brute-force protection: failures are counted per (client id, source address) and per client id
 * under a higher ceiling. Loopback has a whole /8, so 127.0.0.2 and 127.0.0.3 play other hosts.
 */
import { request } from 'node:http'
import { encodeBasicCredentials } from '@oauth-m2m/core/internal'
import { type AuthorizationServerConfig, createAuthorizationServer } from '@oauth-m2m/server'
import { describe, expect, it } from 'vitest'
import { FORM, handleTokenRequest, startServer } from './test-server.js'

const CLIENTS: AuthorizationServerConfig['clients'] = [
  { client_id: 'svc', client_secret: 'svc-secret', scope: 'read' },
]

/** POSTs a client_credentials request for `svc` with `secret`, from the local address `from`. */
function tokenFrom(url: string, from: string, secret: string): Promise<number> {
  const body = 'grant_type=client_credentials'
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}/token`,
      {
        method: 'POST',
        localAddress: from,
        headers: {
          authorization: encodeBasicCredentials('svc', secret),
          'content-type': FORM,
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        res.resume()
        res.on('end', () => resolve(res.statusCode ?? 0))
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}

describe('rate limit per client id and source address', () => {
  it('locks out the guessing address only: the real client elsewhere still gets tokens', async () => {
    const { url } = await startServer({
      clients: CLIENTS,
      rateLimit: { maxFailures: 3, maxFailuresPerClient: 100, windowMs: 60_000 },
    })
    for (let i = 0; i < 3; i++) expect(await tokenFrom(url, '127.0.0.2', `guess-${i}`)).toBe(401)
    expect(await tokenFrom(url, '127.0.0.2', 'svc-secret')).toBe(429)

    expect(await tokenFrom(url, '127.0.0.1', 'svc-secret')).toBe(200)
  })

  it('refuses the client id everywhere once failures from all addresses reach maxFailuresPerClient', async () => {
    const { url } = await startServer({
      clients: CLIENTS,
      rateLimit: { maxFailures: 3, maxFailuresPerClient: 5, windowMs: 60_000 },
    })
    for (let i = 0; i < 3; i++) expect(await tokenFrom(url, '127.0.0.2', `guess-${i}`)).toBe(401)
    for (let i = 0; i < 2; i++) expect(await tokenFrom(url, '127.0.0.3', `guess-${i}`)).toBe(401)

    expect(await tokenFrom(url, '127.0.0.1', 'svc-secret')).toBe(429)
  })

  it('counts handle() callers per remoteAddress, and callers without one as one source', async () => {
    const server = await createAuthorizationServer({
      issuer: 'https://as.example.com',
      clients: CLIENTS,
      rateLimit: { maxFailures: 2, maxFailuresPerClient: 100, windowMs: 60_000 },
    })
    const token = (secret: string, remoteAddress?: string) =>
      handleTokenRequest(
        server,
        'https://as.example.com',
        { clientId: 'svc', secret },
        remoteAddress === undefined ? {} : { remoteAddress },
      )

    expect(await token('guess-1', '192.0.2.7')).toBe(401)
    expect(await token('guess-2', '192.0.2.7')).toBe(401)
    expect(await token('svc-secret', '192.0.2.7')).toBe(429)
    expect(await token('svc-secret', '198.51.100.1')).toBe(200)

    expect(await token('guess-1')).toBe(401)
    expect(await token('guess-2')).toBe(401)
    expect(await token('svc-secret')).toBe(429)
  })
})
