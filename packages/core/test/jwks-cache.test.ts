import { generateKeyPairSync } from 'node:crypto'
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  ConfigurationError,
  HttpError,
  JWKS_ERROR_CHANNEL,
  JWKS_FETCH_CHANNEL,
  JwksCache,
  type JwksErrorEvent,
  type JwksFetchEvent,
  JwksNoMatchingKeyError,
  JwksUnavailableError,
  NetworkError,
  TimeoutError,
} from '@oauth-m2m/core'
import type { JWK } from 'jose'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'

const MINUTE = 60_000
const COOLDOWN = 30_000
const MAX_AGE = 10 * MINUTE
const MAX_STALE = 24 * 60 * MINUTE

type Responder = (req: IncomingMessage, res: ServerResponse) => void

/** A real JWKS endpoint on loopback that the test steers: what it answers and how often it was asked. */
interface JwksServer {
  url: string
  requests: number
  respond: Responder
  close(): Promise<void>
}

async function startJwksServer(): Promise<JwksServer> {
  const state: JwksServer = {
    url: '',
    requests: 0,
    respond: (_req, res) => res.writeHead(500).end(),
    close: async () => {},
  }
  const server = createServer((req, res) => {
    state.requests++
    state.respond(req, res)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`
  state.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    })
  return state
}

function json(body: unknown, headers: Record<string, string> = {}): Responder {
  return (_req, res) =>
    res.writeHead(200, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body))
}

const hang: Responder = () => {}

function publicJwk(kid: string, curve = 'P-256', alg = 'ES256'): JWK {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: curve })
  return { ...(publicKey.export({ format: 'jwk' }) as JWK), kid, alg, use: 'sig' }
}

function privateJwk(kid: string): JWK {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  return { ...(privateKey.export({ format: 'jwk' }) as JWK), kid, alg: 'ES256', use: 'sig' }
}

let server: JwksServer
let now: number
const clock = () => now
const keyA = publicJwk('key-a')
const keyB = publicJwk('key-b')

function cache(options: ConstructorParameters<typeof JwksCache>[1] = {}) {
  return new JwksCache(server.url, { now: clock, ...options })
}

function record<T>(channelName: string): { events: T[]; stop(): void } {
  const events: T[] = []
  const listener = (message: unknown) => events.push(message as T)
  subscribe(channelName, listener)
  return { events, stop: () => unsubscribe(channelName, listener) }
}

beforeEach(async () => {
  server = await startJwksServer()
  now = Date.UTC(2030, 0, 1)
})

afterEach(async () => {
  await server.close()
})

describe('JwksCache: fetching and freshness', () => {
  it('fetches once for all concurrent cold callers', async () => {
    server.respond = json({ keys: [keyA, keyB] })
    const jwks = cache()
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => jwks.getKey({ kid: i % 2 ? 'key-a' : 'key-b', alg: 'ES256' })),
    )
    expect(server.requests).toBe(1)
    expect(results[0]).toEqual(keyB)
    expect(results[1]).toEqual(keyA)
  })

  it('serves a fresh set from memory and refetches once it expires', async () => {
    server.respond = json({ keys: [keyA] })
    const jwks = cache()
    await jwks.getKey({ kid: 'key-a' })
    now += MAX_AGE - 1
    await jwks.getKey({ kid: 'key-a' })
    expect(server.requests).toBe(1)
    now += 1
    await jwks.getKey({ kid: 'key-a' })
    expect(server.requests).toBe(2)
  })

  it.each([
    ['max-age inside the bounds', 'public, max-age=120', 120_000],
    ['max-age less Age', 'max-age=120', 100_000, '20'],
    ['max-age below the cooldown', 'max-age=1', COOLDOWN],
    ['max-age above maxAgeMs', 'max-age=86400', MAX_AGE],
    ['no-cache', 'no-cache', COOLDOWN],
    ['no max-age', 'public', MAX_AGE],
  ])('honours Cache-Control: %s', async (_case, cacheControl, freshMs, age?: string) => {
    server.respond = json({ keys: [keyA] }, { 'cache-control': cacheControl, ...(age ? { age } : {}) })
    const jwks = cache()
    await jwks.getKeys()
    now += freshMs - 1
    await jwks.getKeys()
    expect(server.requests).toBe(1)
    now += 1
    await jwks.getKeys()
    expect(server.requests).toBe(2)
  })

  it('refetches on refresh(), whatever the freshness and cooldown', async () => {
    server.respond = json({ keys: [keyA] })
    const jwks = cache()
    await jwks.getKeys()
    server.respond = json({ keys: [keyB] })
    await jwks.refresh()
    expect(server.requests).toBe(2)
    expect(await jwks.getKeys()).toEqual([keyB])
  })

  it('publishes each fetch with its reason on oauth-m2m:core:jwks:fetch', async () => {
    const fetches = record<JwksFetchEvent>(JWKS_FETCH_CHANNEL)
    try {
      server.respond = json({ keys: [keyA] })
      const jwks = cache()
      await jwks.getKeys()
      now += MAX_AGE
      await jwks.getKeys()
      now += COOLDOWN
      await expect(jwks.getKey({ kid: 'rotated' })).rejects.toBeInstanceOf(JwksNoMatchingKeyError)
      await jwks.refresh()
      expect(fetches.events).toEqual([
        { jwksUri: server.url, keyCount: 1, reason: 'initial', durationMs: expect.any(Number) },
        { jwksUri: server.url, keyCount: 1, reason: 'expired', durationMs: expect.any(Number) },
        { jwksUri: server.url, keyCount: 1, reason: 'unknown-kid', durationMs: expect.any(Number) },
        { jwksUri: server.url, keyCount: 1, reason: 'manual', durationMs: expect.any(Number) },
      ])
      for (const event of fetches.events) expect(event.durationMs).toBeGreaterThanOrEqual(0)
    } finally {
      fetches.stop()
    }
  })
})

describe('JwksCache: key selection', () => {
  it('picks a rotated-in key on first sight once the cooldown has passed', async () => {
    server.respond = json({ keys: [keyA] })
    const jwks = cache()
    await jwks.getKey({ kid: 'key-a' })
    now += COOLDOWN
    server.respond = json({ keys: [keyB] })
    expect(await jwks.getKey({ kid: 'key-b', alg: 'ES256' })).toEqual(keyB)
    expect(server.requests).toBe(2)
    // the rotated-out key is gone with the new set
    await expect(jwks.getKey({ kid: 'key-a' })).rejects.toBeInstanceOf(JwksNoMatchingKeyError)
    expect(server.requests).toBe(2)
  })

  it('turns 10,000 concurrent unknown kids into one fetch per cooldown', async () => {
    server.respond = json({ keys: [keyA] })
    const jwks = cache()
    await jwks.getKeys()
    now += COOLDOWN
    const storm = () =>
      Promise.allSettled(
        Array.from({ length: 10_000 }, () => jwks.getKey({ kid: `random-${Math.random()}`, alg: 'ES256' })),
      )
    const first = await storm()
    expect(server.requests).toBe(2)
    expect(first.every((r) => r.status === 'rejected' && r.reason instanceof JwksNoMatchingKeyError)).toBe(
      true,
    )

    now += COOLDOWN - 1
    const second = await storm()
    expect(server.requests).toBe(2)
    expect(second.every((r) => r.status === 'rejected' && r.reason instanceof JwksNoMatchingKeyError)).toBe(
      true,
    )

    now += 1
    await storm()
    expect(server.requests).toBe(3)
    // known keys were never disturbed
    expect(await jwks.getKey({ kid: 'key-a' })).toEqual(keyA)
  })

  it('looks an unknown kid up once even right after a routine fetch (a rotation is seen at once)', async () => {
    server.respond = json({ keys: [keyA] })
    const jwks = cache()
    await jwks.getKey({ kid: 'key-a' })
    server.respond = json({ keys: [keyA, keyB] })
    expect(await jwks.getKey({ kid: 'key-b' })).toEqual(keyB)
    expect(server.requests).toBe(2)
  })

  it('fails further unknown kids at once, without a fetch, inside the cooldown of that lookup', async () => {
    server.respond = json({ keys: [keyA] })
    const jwks = cache()
    await expect(jwks.getKey({ kid: 'nope' })).rejects.toThrow(/no key for kid "nope"/)
    expect(server.requests).toBe(2)
    await expect(jwks.getKey({ kid: 'other' })).rejects.toThrow(/no key for kid "other"/)
    expect(server.requests).toBe(2)
  })

  it('without a kid, returns the single key compatible with alg', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' }) as JWK
    const ed = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }) as JWK
    const p384 = publicJwk('p384', 'P-384', 'ES384')
    server.respond = json({ keys: [keyA, rsa, ed, p384] })
    const jwks = cache()
    expect(await jwks.getKey({ alg: 'ES256' })).toEqual(keyA)
    expect(await jwks.getKey({ alg: 'RS256' })).toEqual(rsa)
    expect(await jwks.getKey({ alg: 'PS384' })).toEqual(rsa)
    expect(await jwks.getKey({ alg: 'EdDSA' })).toEqual(ed)
    expect(await jwks.getKey({ alg: 'ES384' })).toEqual(p384)
  })

  it('refuses without a kid when several keys fit', async () => {
    server.respond = json({ keys: [keyA, keyB] })
    const jwks = cache()
    await expect(jwks.getKey({ alg: 'ES256' })).rejects.toThrow(/several keys/)
  })

  it('refuses a key whose kty, crv, alg or key_ops do not fit the header alg', async () => {
    const opsSignOnly = { ...publicJwk('ops'), key_ops: ['sign'] }
    server.respond = json({ keys: [keyA, opsSignOnly] })
    const jwks = cache()
    for (const header of [
      { kid: 'key-a', alg: 'RS256' },
      { kid: 'key-a', alg: 'ES384' },
      { kid: 'key-a', alg: 'HS256' },
      { kid: 'key-a', alg: 'none' },
      { kid: 'ops', alg: 'ES256' },
    ]) {
      await expect(jwks.getKey(header)).rejects.toBeInstanceOf(JwksNoMatchingKeyError)
    }
    const es256NoAlgMember = { ...publicJwk('bare'), alg: undefined }
    server.respond = json({ keys: [es256NoAlgMember] })
    await jwks.refresh()
    expect((await jwks.getKey({ kid: 'bare', alg: 'ES256' })).kid).toBe('bare')
    await expect(jwks.getKey({ kid: 'bare', alg: 'ES512' })).rejects.toBeInstanceOf(JwksNoMatchingKeyError)
  })

  it('hands out frozen keys, so a caller cannot corrupt the cache', async () => {
    server.respond = json({ keys: [keyA] })
    const jwks = cache()
    const key = await jwks.getKey({ kid: 'key-a' })
    expect(Object.isFrozen(key)).toBe(true)
    expect(() => {
      ;(key as { x?: string }).x = 'tampered'
    }).toThrow(TypeError)
    expect(await jwks.getKey({ kid: 'key-a' })).toEqual(keyA)
  })
})

describe('JwksCache: document validation', () => {
  it('never returns private or symmetric key material, nor encryption keys', async () => {
    const leaked = privateJwk('leaked')
    const secret = { kty: 'oct', kid: 'hmac', k: 'c2VjcmV0LXNlY3JldC1zZWNyZXQ' }
    const rsaPrivate = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
      format: 'jwk',
    }) as JWK
    const encryption = { ...publicJwk('enc'), use: 'enc' }
    server.respond = json({ keys: [leaked, secret, { ...rsaPrivate, kid: 'rsa-private' }, encryption, keyA] })
    const jwks = cache()
    const keys = await jwks.getKeys()
    expect(keys).toEqual([keyA])
    for (const key of keys)
      for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) expect(key).not.toHaveProperty(member)
    for (const kid of ['leaked', 'hmac', 'rsa-private', 'enc']) {
      await expect(jwks.getKey({ kid })).rejects.toBeInstanceOf(JwksNoMatchingKeyError)
    }
  })

  it('skips entries that are not keys and keeps the rest', async () => {
    server.respond = json({ keys: [null, 42, 'key', [], {}, { kty: '' }, { kty: 7 }, keyA] })
    const jwks = cache()
    expect(await jwks.getKeys()).toEqual([keyA])
  })

  it('accepts an empty set, then has no matching key', async () => {
    server.respond = json({ keys: [] })
    const jwks = cache()
    expect(await jwks.getKeys()).toEqual([])
    await expect(jwks.getKey({ kid: 'any' })).rejects.toBeInstanceOf(JwksNoMatchingKeyError)
  })

  it.each([
    ['a document without keys', json({ nokeys: true })],
    ['keys that is not an array', json({ keys: { kid: 'a' } })],
    ['a JSON array', json([keyA])],
    ['JSON null', json(null)],
    [
      'malformed JSON',
      (_req: IncomingMessage, res: ServerResponse) =>
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"keys": ['),
    ],
    [
      'HTML',
      (_req: IncomingMessage, res: ServerResponse) =>
        res.writeHead(200, { 'content-type': 'text/html' }).end('<html></html>'),
    ],
    [
      'a 404',
      (_req: IncomingMessage, res: ServerResponse) =>
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"keys":[]}'),
    ],
    ['an oversized body', json({ keys: [keyA], padding: 'x'.repeat(600 * 1024) })],
  ])('treats %s as a failed fetch', async (_case, responder) => {
    server.respond = responder
    const jwks = cache()
    const err = await jwks.getKey({ kid: 'key-a' }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(JwksUnavailableError)
    expect((err as JwksUnavailableError).code).toBe('ERR_JWKS_UNAVAILABLE')
    expect((err as Error).cause).toBeInstanceOf(HttpError)
  })
})

describe('JwksCache: failures', () => {
  it('keeps serving the last good set through an outage, retrying once per cooldown', async () => {
    const errorsSeen = record<JwksErrorEvent>(JWKS_ERROR_CHANNEL)
    try {
      server.respond = json({ keys: [keyA] })
      const jwks = cache()
      await jwks.getKey({ kid: 'key-a' })
      server.respond = (_req, res) => res.writeHead(503, { 'content-type': 'application/json' }).end('{}')
      now += MAX_AGE
      expect(await jwks.getKey({ kid: 'key-a' })).toEqual(keyA)
      expect(server.requests).toBe(2)
      expect(errorsSeen.events).toEqual([
        {
          jwksUri: server.url,
          error: { name: 'HttpError', code: 'ERR_HTTP', message: 'JWKS endpoint answered 503' },
          durationMs: expect.any(Number),
        },
      ])
      expect(errorsSeen.events[0]!.durationMs).toBeGreaterThanOrEqual(0)

      now += COOLDOWN - 1
      for (let i = 0; i < 50; i++) expect(await jwks.getKey({ kid: 'key-a' })).toEqual(keyA)
      expect(server.requests).toBe(2)

      now += 1
      expect(await jwks.getKey({ kid: 'key-a' })).toEqual(keyA)
      expect(server.requests).toBe(3)

      server.respond = json({ keys: [keyB] })
      now += COOLDOWN
      expect(await jwks.getKey({ kid: 'key-b' })).toEqual(keyB)
      expect(server.requests).toBe(4)
    } finally {
      errorsSeen.stop()
    }
  })

  it('stops serving the stale set maxStaleMs past its expiry', async () => {
    server.respond = json({ keys: [keyA] })
    const jwks = cache()
    await jwks.getKeys()
    server.respond = (_req, res) => res.writeHead(500, { 'content-type': 'text/plain' }).end('down')
    now += MAX_AGE + MAX_STALE
    expect(await jwks.getKey({ kid: 'key-a' })).toEqual(keyA)
    now += 1
    const err = await jwks.getKey({ kid: 'key-a' }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(JwksUnavailableError)
    expect((err as Error).message).toMatch(/too old/)
    expect((err as Error).cause).toBeInstanceOf(HttpError)
  })

  it('fails with JwksUnavailableError when no set was ever fetched', async () => {
    const url = server.url
    await server.close()
    const jwks = new JwksCache(url, { now: clock })
    const err = await jwks.getKeys().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(JwksUnavailableError)
    expect((err as Error).cause).toBeInstanceOf(NetworkError)
    server = await startJwksServer()
  })

  it('after a failed cold fetch, fails fast until the cooldown has passed', async () => {
    server.respond = (_req, res) => res.writeHead(500).end()
    const jwks = cache()
    await expect(jwks.getKeys()).rejects.toBeInstanceOf(JwksUnavailableError)
    server.respond = json({ keys: [keyA] })
    await expect(jwks.getKeys()).rejects.toBeInstanceOf(JwksUnavailableError)
    expect(server.requests).toBe(1)
    now += COOLDOWN
    expect(await jwks.getKeys()).toEqual([keyA])
    expect(server.requests).toBe(2)
  })

  it('times out a hanging endpoint instead of hanging', async () => {
    server.respond = hang
    const jwks = cache({ timeoutMs: 100 })
    const err = await jwks.getKeys().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(JwksUnavailableError)
    expect((err as Error).cause).toBeInstanceOf(TimeoutError)
  })

  it('reports an unknown kid as unavailable when the refetch fails', async () => {
    server.respond = json({ keys: [keyA] })
    const jwks = cache()
    await jwks.getKeys()
    server.respond = (_req, res) => res.writeHead(502).end()
    now += COOLDOWN
    await expect(jwks.getKey({ kid: 'rotated' })).rejects.toBeInstanceOf(JwksUnavailableError)
    // within the cooldown: no new fetch, and the same answer, since the lookup was not possible
    await expect(jwks.getKey({ kid: 'rotated' })).rejects.toBeInstanceOf(JwksUnavailableError)
    expect(server.requests).toBe(2)
    // the known key is still served
    expect(await jwks.getKey({ kid: 'key-a' })).toEqual(keyA)
  })

  it('rejects refresh() when the fetch fails but keeps the set', async () => {
    server.respond = json({ keys: [keyA] })
    const jwks = cache()
    await jwks.getKeys()
    server.respond = (_req, res) => res.writeHead(500).end()
    await expect(jwks.refresh()).rejects.toBeInstanceOf(JwksUnavailableError)
    expect(await jwks.getKey({ kid: 'key-a' })).toEqual(keyA)
  })

  it.each([
    ['a relative URI', 'jwks.json', {}],
    ['a non-http URI', 'file:///etc/jwks.json', {}],
    ['a negative cooldown', 'https://as.example/jwks', { cooldownMs: -1 }],
    ['a NaN max age', 'https://as.example/jwks', { maxAgeMs: Number.NaN }],
  ])('refuses %s at construction', (_case, uri, options) => {
    expect(() => new JwksCache(uri, options)).toThrow(ConfigurationError)
  })
})
