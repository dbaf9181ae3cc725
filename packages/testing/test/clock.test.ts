import { ConfigurationError } from '@oauth-m2m/core'
import { requestJson } from '@oauth-m2m/core/internal'
import {
  createTestAuthorizationServer,
  type StartedAuthorizationServer,
  startAuthorizationServer,
} from '@oauth-m2m/testing'
import { decodeJwt, decodeProtectedHeader } from 'jose'
import { afterEach, describe, expect, it } from 'vitest'
import { createTestClock } from '../src/clock.js'

const HOUR_MS = 3_600_000
const START = Date.UTC(2030, 0, 1)

describe('createTestClock', () => {
  it('follows its source, and keeps flowing from where set() or advance() put it', () => {
    let source = 1_000
    const clock = createTestClock(() => source)
    expect(clock.now()).toBe(1_000)

    clock.set(50_000)
    expect(clock.now()).toBe(50_000)
    source += 10 // time passes
    expect(clock.now()).toBe(50_010)

    clock.advance(90)
    expect(clock.now()).toBe(50_100)
    clock.advance(-100) // back, for clock-skew tests
    expect(clock.now()).toBe(50_000)
    source += 5
    expect(clock.now()).toBe(50_005)
  })

  it('follows Date.now by default', () => {
    const clock = createTestClock()
    const before = Date.now()
    const now = clock.now()
    expect(now).toBeGreaterThanOrEqual(before)
    expect(now).toBeLessThanOrEqual(Date.now())
  })

  it.each([Number.NaN, Number.POSITIVE_INFINITY, '5' as unknown as number, 1.5, 1e308, -8.64e15 - 1])(
    'refuses to set or advance by %s',
    (value) => {
      const clock = createTestClock(() => 0)
      expect(() => clock.set(value)).toThrow(ConfigurationError)
      expect(() => clock.advance(value)).toThrow(ConfigurationError)
      expect(clock.now()).toBe(0)
    },
  )

  it('stays within the time a Date can hold (±8.64e15 ms): set and advance past it are refused', () => {
    const clock = createTestClock(() => 0)
    clock.set(8.64e15)
    expect(() => clock.advance(1)).toThrow(ConfigurationError)
    clock.set(-8.64e15)
    expect(() => clock.advance(-1)).toThrow(ConfigurationError)
    expect(clock.now()).toBe(-8.64e15)
    clock.advance(8.64e15)
    expect(clock.now()).toBe(0)
    expect(() => clock.set(8.64e15 + 1)).toThrow(/clock\.set/)
  })

  it('stands still at the end of that range instead of flowing past it', () => {
    let source = 0
    const clock = createTestClock(() => source)
    clock.set(8.64e15)
    source += 1000
    expect(clock.now()).toBe(8.64e15)
  })

  it('refuses a now option that is not a function', async () => {
    await expect(createTestAuthorizationServer({ now: 5 as unknown as () => number })).rejects.toThrow(
      ConfigurationError,
    )
  })
})

describe("the test server's clock", () => {
  let as: StartedAuthorizationServer | undefined
  afterEach(async () => {
    await as?.close()
    as = undefined
  })

  it('stamps issued tokens: iat and exp follow clock.set() and clock.advance()', async () => {
    let source = START
    const server = await createTestAuthorizationServer({ now: () => source })
    try {
      expect(server.clock.now()).toBe(START)
      const first = decodeJwt(await server.mintToken())
      expect(first.iat).toBe(START / 1000)
      expect(first.exp).toBe(START / 1000 + 3600)

      server.clock.advance(HOUR_MS)
      source += 5_000 // the source moves on too
      const second = decodeJwt(await server.mintToken())
      expect(second.iat).toBe((START + HOUR_MS + 5_000) / 1000)

      server.clock.set(Date.UTC(2040, 0, 1))
      expect(decodeJwt(await server.mintToken()).iat).toBe(Date.UTC(2040, 0, 1) / 1000)
    } finally {
      await server.close()
    }
  })

  it('expires stored (opaque) tokens: introspection says inactive once the clock passes exp', async () => {
    const api = 'https://opaque.example.test'
    as = await startAuthorizationServer({
      resources: [{ resource: api, tokenFormat: 'opaque', accessTokenLifetimeSec: 60 }],
    })
    const token = await as.mintToken({ resource: api })
    const caller = as.createClient()
    const introspect = async () => {
      const answer = await requestJson(`${as!.issuer}/introspect`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${caller.clientId}:${caller.clientSecret}`).toString('base64')}`,
        },
        body: new URLSearchParams({ token }).toString(),
      })
      return (answer.body as { active: boolean }).active
    }
    expect(await introspect()).toBe(true)
    as.clock.advance(61_000)
    expect(await introspect()).toBe(false)
  })

  it("checks client assertions against the server's time, not the machine's", async () => {
    as = await startAuthorizationServer({
      clients: [{ client_id: 'key-client', token_endpoint_auth_method: 'private_key_jwt' }],
    })
    await expect(as.mintToken({ clientId: 'key-client' })).resolves.toEqual(expect.any(String))
    // The client signs with the machine's clock; two hours later by the server, its assertion
    // (exp a minute after the machine's now) has long expired.
    as.clock.advance(2 * HOUR_MS)
    await expect(as.mintToken({ clientId: 'key-client' })).rejects.toMatchObject({ error: 'invalid_client' })
    // A Basic client does not sign anything: unaffected.
    await expect(as.mintToken()).resolves.toEqual(expect.any(String))
  })

  it('retires a rotated-out signing key from the JWKS once the clock passes its last token', async () => {
    as = await startAuthorizationServer()
    const oldKid = decodeProtectedHeader(await as.mintToken()).kid
    await as.server.rotateSigningKey()
    const kids = async () => {
      const answer = await requestJson(`${as!.issuer}/jwks`)
      return (answer.body as { keys: { kid: string }[] }).keys.map((k) => k.kid)
    }
    expect(await kids()).toContain(oldKid)
    as.clock.advance(2 * HOUR_MS) // past the old key's last token (3600 s) and the JWKS cache
    expect(await kids()).not.toContain(oldKid)
  })

  it('is the one the request log stamps entries with', async () => {
    as = await startAuthorizationServer({ now: () => START })
    await requestJson(`${as.issuer}/jwks`)
    as.clock.advance(1234)
    const client = as.createClient()
    await requestJson(as.tokenEndpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}`,
      },
      body: 'grant_type=client_credentials',
    })
    expect(as.requests.map((r) => [r.endpoint, r.timeMs])).toEqual([
      ['jwks', START],
      ['token', START + 1234],
    ])
  })
})
