import { ConfigurationError, discover } from '@oauth-m2m/core'
import { requestJson } from '@oauth-m2m/core/internal'
import { type StartedAuthorizationServers, startAuthorizationServers } from '@oauth-m2m/testing'
import { createVerifier } from '@oauth-m2m/verifier'
import { decodeProtectedHeader } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tokenRequest } from './transports.js'

const overHttp = { request: requestJson }

describe('startAuthorizationServers', () => {
  let group: StartedAuthorizationServers

  beforeAll(async () => {
    group = await startAuthorizationServers(['tenant-a', 'tenant-b'], {
      clients: [{ client_id: 'shared-name' }],
    })
  })
  afterAll(() => group.close())

  it('serves every issuer on one port, by path, with its metadata at the RFC 8414 §3 location', async () => {
    expect(group.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    const [a, b] = group.servers
    expect(a!.issuer).toBe(`${group.url}/tenant-a`)
    expect(b!.issuer).toBe(`${group.url}/tenant-b`)
    expect(group.byName['tenant-b']).toBe(b)
    expect(a!.url).toBe(a!.issuer)
    expect(a!.tokenEndpoint).toBe(`${group.url}/tenant-a/token`)

    for (const as of group.servers) {
      const metadata = await discover(as.issuer)
      expect(metadata.issuer).toBe(as.issuer)
      expect(metadata.jwks_uri).toBe(`${as.issuer}/jwks`)
    }
    const located = await requestJson(`${group.url}/.well-known/oauth-authorization-server/tenant-a`)
    expect(located.body).toMatchObject({ issuer: a!.issuer })
  })

  it('gives each issuer its own keys and clients: a token of one is refused by the verifier of the other', async () => {
    const [a, b] = group.servers
    const tokenA = await a!.mintToken()
    const tokenB = await b!.mintToken()
    expect(decodeProtectedHeader(tokenA).kid).not.toBe(decodeProtectedHeader(tokenB).kid)

    const verifierA = createVerifier({ issuer: a!.issuer, audience: a!.audience })
    const verifierB = createVerifier({ issuer: b!.issuer, audience: b!.audience })
    try {
      await expect(verifierA.verify(tokenA)).resolves.toMatchObject({ clientId: 'test-client' })
      await expect(verifierB.verify(tokenB)).resolves.toMatchObject({ clientId: 'test-client' })
      await expect(verifierB.verify(tokenA)).rejects.toMatchObject({ code: 'ERR_INVALID_TOKEN' })
    } finally {
      await Promise.all([verifierA.close(), verifierB.close()])
    }

    // Same client id, different generated secrets: a's credentials are refused at b's endpoint.
    const credentialsA = a!.createClient('shared-name')
    expect(credentialsA.clientSecret).not.toBe(b!.createClient('shared-name').clientSecret)
    const refused = await tokenRequest(overHttp, { ...credentialsA, tokenEndpoint: b!.tokenEndpoint })
    expect(refused.status).toBe(401)
  })

  it('keeps request logs and failures apart, and shares one clock', async () => {
    const [a, b] = group.servers
    a!.takeRequests()
    b!.takeRequests()
    b!.outage('token')
    try {
      expect((await tokenRequest(overHttp, a!.createClient())).status).toBe(200)
      expect((await tokenRequest(overHttp, b!.createClient())).status).toBe(503)
    } finally {
      b!.restore()
    }
    expect(a!.takeRequests().map((r) => [r.path, r.status])).toEqual([['/tenant-a/token', 200]])
    expect(b!.takeRequests().map((r) => [r.path, r.status])).toEqual([['/tenant-b/token', 503]])

    expect(a!.clock).toBe(b!.clock)
  })

  it('answers 404 for paths of no issuer, the origin metadata included', async () => {
    for (const path of ['/token', '/.well-known/oauth-authorization-server', '/tenant-c/token']) {
      const answer = await requestJson(`${group.url}${path}`)
      expect(answer.status).toBe(404)
      expect(answer.body).toMatchObject({ error: 'not_found' })
    }
  })
})

describe('startAuthorizationServers names and lifetimes', () => {
  it('names a count of issuers tenant-1 … tenant-n and accepts names of several segments', async () => {
    const counted = await startAuthorizationServers(3)
    const named = await startAuthorizationServers(['realms/orders', 'realms/billing'])
    try {
      expect(Object.keys(counted.byName)).toEqual(['tenant-1', 'tenant-2', 'tenant-3'])
      expect(counted.servers[2]!.issuer).toBe(`${counted.url}/tenant-3`)
      const metadata = await discover(named.byName['realms/orders']!.issuer)
      expect(metadata.token_endpoint).toBe(`${named.url}/realms/orders/token`)
    } finally {
      await Promise.all([counted.close(), named.close()])
    }
  })

  it("closes one issuer with its own close(), and everything with the group's", async () => {
    const group = await startAuthorizationServers(2)
    const [first, second] = group.servers
    await first!.close()
    expect((await requestJson(`${first!.issuer}/jwks`)).status).toBe(404)
    expect((await requestJson(`${second!.issuer}/jwks`)).status).toBe(200)
    await group.close()
    await expect(requestJson(`${second!.issuer}/jwks`, { timeoutMs: 2000 })).rejects.toMatchObject({
      code: 'ERR_NETWORK',
    })
    await group.close() // twice is harmless
  })

  it.each([
    ['zero', 0],
    ['a fraction', 1.5],
    ['too many', 101],
    ['an empty list', []],
    ['an empty name', ['']],
    ['a space', ['tenant a']],
    ['a dot segment', ['a/../b']],
    ['an empty segment', ['a//b']],
    ['the well-known prefix', ['.well-known/x']],
    ['a duplicate', ['a', 'a']],
    ['a name that is a path prefix of another', ['a', 'a/b']],
    ['not a string', [5]],
  ])('refuses %s', async (_what, issuers) => {
    await expect(startAuthorizationServers(issuers as never)).rejects.toThrow(ConfigurationError)
  })

  it('hands out verifier options that accept each issuer’s tokens', async () => {
    const group = await startAuthorizationServers(2)
    try {
      for (const as of group.servers) {
        const verifier = createVerifier(as.verifierOptions())
        try {
          await expect(verifier.verify(await as.mintToken())).resolves.toMatchObject({
            clientId: 'test-client',
          })
        } finally {
          await verifier.close()
        }
      }
    } finally {
      await group.close()
    }
  })

  it('refuses a provider profile, whose issuer URL is its own', async () => {
    await expect(startAuthorizationServers(2, { profile: 'okta' })).rejects.toThrow(ConfigurationError)
  })

  it('refuses an issuer option and a host that is not loopback', async () => {
    await expect(startAuthorizationServers(1, { issuer: 'https://x.test' } as never)).rejects.toThrow(
      ConfigurationError,
    )
    await expect(startAuthorizationServers(1, { host: '0.0.0.0' })).rejects.toThrow(ConfigurationError)
  })
})
