import { ConfigurationError, clientSecretBasic } from '@oauth-m2m/core'
import { describe, expect, it } from 'vitest'
import { createTokenClient, type TokenClientOptions } from '../src/index.js'
import { resolveOptions } from '../src/options.js'
import { DEFAULT_ATTEMPT_TIMEOUT_MS } from '../src/server-token-source.js'
import { DEFAULT_STORE_TIMEOUT_MS } from '../src/token-cache.js'
import { DEFAULT_MAX_RESPONSE_BYTES } from '../src/token-request.js'

const base: TokenClientOptions = {
  tokenEndpoint: 'https://as.example.test/token',
  clientId: 'service-a',
  auth: clientSecretBasic('s3cret'),
}

describe('options', () => {
  it('applies the documented defaults', () => {
    const o = resolveOptions(base)
    expect(o.timeoutMs).toBe(10_000)
    expect(o.maxResponseBytes).toBe(256 * 1024)
    expect(o.retry).toEqual({
      retries: 3,
      minDelayMs: 250,
      maxDelayMs: 5000,
      maxRetryAfterMs: 300_000,
      deadlineMs: 30_000,
    })
    expect(o.timings).toEqual({
      refreshRatio: 0.8,
      refreshMarginMs: 60_000,
      refreshJitterRatio: 0.1,
      expiryMarginMs: 30_000,
      defaultExpiresInMs: 300_000,
      maxLifetimeMs: 86_400_000,
    })
    expect(o.storeTimeoutMs).toBe(1000)
    expect(o.maxCacheEntries).toBe(1000)
    expect(o.origins).toBeUndefined()
  })

  it('takes its defaults from the runtime modules that use them', () => {
    const o = resolveOptions(base)
    expect(o.timeoutMs).toBe(DEFAULT_ATTEMPT_TIMEOUT_MS)
    expect(o.maxResponseBytes).toBe(DEFAULT_MAX_RESPONSE_BYTES)
    expect(o.storeTimeoutMs).toBe(DEFAULT_STORE_TIMEOUT_MS)
  })

  it('takes http origins on a loopback host, and elsewhere only with allowInsecureHttp', () => {
    expect(resolveOptions({ ...base, origins: ['http://127.0.0.2:8080'] }).origins).toEqual([
      'http://127.0.0.2:8080',
    ])
    const o = resolveOptions({ ...base, origins: ['http://api.example.test'], allowInsecureHttp: true })
    expect(o.origins).toEqual(['http://api.example.test'])
  })

  it('normalises scopes and origins', () => {
    const o = resolveOptions({
      ...base,
      scope: ' read  write read',
      origins: ['https://API.example.test:443/'],
    })
    expect(o.scopes).toEqual(['read', 'write'])
    expect(o.origins).toEqual(['https://api.example.test'])
  })

  const bad: [string, Partial<TokenClientOptions> | Record<string, unknown>, RegExp][] = [
    ['no endpoint', { tokenEndpoint: undefined }, /give issuer or tokenEndpoint/],
    ['a relative endpoint', { tokenEndpoint: '/token' }, /absolute URL/],
    [
      'http on a public host',
      { tokenEndpoint: 'http://as.example.test/token' },
      /http: on a non-loopback host/,
    ],
    [
      'an http origin on a public host',
      { origins: ['http://api.example.test'] },
      /origins.*http: on a non-loopback host.*allowInsecureHttp/,
    ],
    ['an empty clientId', { clientId: '' }, /clientId/],
    ['no auth', { auth: undefined }, /auth must be/],
    ['a scope with a quote', { scope: 'read"x' }, /invalid characters/],
    ['a relative resource', { resource: '/api' }, /absolute URIs/],
    ['a resource with a fragment', { resource: 'https://api.example.test/#x' }, /fragment/],
    ['a resource with an empty fragment', { resource: 'https://api.example.test/#' }, /fragment/],
    ['a token endpoint with a fragment', { tokenEndpoint: 'https://as.example.test/token#x' }, /fragment/],
    ['a scope with a backslash', { scope: ['read', 'a\\b'] }, /invalid characters/],
    ['a reserved extra parameter', { extraParams: { client_secret: 'x' } }, /must not set client_secret/],
    [
      'audience as an extra parameter (the client sets it from the audience option)',
      { extraParams: { audience: 'https://api.example.test' } },
      /extraParams must not set audience/,
    ],
    ['an empty audience', { audience: '' }, /audience must hold non-empty strings/],
    ['a non-string audience', { audience: ['api', 42] }, /audience must hold non-empty strings/],
    ['an audience object', { audience: { api: true } }, /audience must be a string or an array/],
    ['an origin with a path', { origins: ['https://api.example.test/v1'] }, /bare origins/],
    ['a negative timeout', { timeoutMs: -1 }, /timeoutMs/],
    ['a refreshRatio above 1', { refreshRatio: 1.5 }, /refreshRatio/],
    ['a NaN expiry margin', { expiryMarginSec: Number.NaN }, /expiryMarginSec/],
    ['the replaced clockSkewSec', { clockSkewSec: 30 }, /clockSkewSec is replaced by expiryMarginSec/],
    ['a store without delete', { store: { get() {}, set() {} } }, /store must have/],
    ['a negative maxRetryAfterSec', { maxRetryAfterSec: -1 }, /maxRetryAfterSec/],
    [
      'the replaced retry.maxRetryAfterMs',
      { retry: { maxRetryAfterMs: 5000 } },
      /replaced by maxRetryAfterSec/,
    ],
  ]

  it.each(bad)('refuses %s with a ConfigurationError', (_, patch, message) => {
    const attempt = () => createTokenClient({ ...base, ...patch } as TokenClientOptions)
    expect(attempt).toThrow(ConfigurationError)
    expect(attempt).toThrow(message)
  })

  it('allows http on loopback hosts, and elsewhere only with allowInsecureHttp', () => {
    expect(() => resolveOptions({ ...base, tokenEndpoint: 'http://127.0.0.1:8080/token' })).not.toThrow()
    expect(() => resolveOptions({ ...base, tokenEndpoint: 'http://localhost/token' })).not.toThrow()
    expect(() => resolveOptions({ ...base, tokenEndpoint: 'http://[::1]:8080/token' })).not.toThrow()
    // The one transport rule of every package: all of 127.0.0.0/8 is loopback.
    expect(() => resolveOptions({ ...base, issuer: 'http://127.0.0.2:8080' })).not.toThrow()
    expect(() =>
      resolveOptions({ ...base, tokenEndpoint: 'http://as.internal/token', allowInsecureHttp: true }),
    ).not.toThrow()
  })

  it('refuses bad per-call parameters as a rejected promise, not a throw', async () => {
    const client = createTokenClient(base)
    await expect(client.getToken({ scope: 'a\u0000b' })).rejects.toBeInstanceOf(ConfigurationError)
    await expect(client.getToken({ extraParams: { grant_type: 'password' } })).rejects.toThrow(
      /getToken: extraParams must not set grant_type/,
    )
    await expect(client.getToken({ audience: [''] })).rejects.toThrow(
      /getToken: audience must hold non-empty strings/,
    )
    await expect(client.getToken({ extraParams: { audience: 'x' } })).rejects.toThrow(
      /getToken: extraParams must not set audience/,
    )
    await client.close()
  })
})
