/**
 * How the verifier behaves when the issuer's JWKS endpoint fails, rotates or is probed with random
 * key ids. The JWKS cache runs on an injected clock, so cooldowns and ages pass without waiting.
 * Outages are the reference server's (`as.outage('jwks')`); rotations and probes use a stand-in
 * issuer whose key set the test writes.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { JWKS_ERROR_CHANNEL, JWKS_FETCH_CHANNEL } from '@oauth-m2m/core'
import { type StartedAuthorizationServer, startAuthorizationServer } from '@oauth-m2m/testing'
import { createVerifier, InvalidTokenError, TemporarilyUnavailableError } from '@oauth-m2m/verifier'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { AUDIENCE, accessTokenClaims, ISSUER, makeKey, mintToken, type TestKey } from './support/keys.js'
import { encodeJson } from './support/raw-jws.js'
import { startTestIssuer, type TestIssuer } from './support/test-issuer.js'

const COOLDOWN_MS = 30_000
const MAX_AGE_MS = 600_000
const MAX_STALE_MS = 3_600_000

let as: TestIssuer
let current: TestKey
let clock: number

beforeEach(() => {
  clock = 1_000_000
})

/** A stand-in issuer publishing the key `current`, for the describe blocks that rewrite its key set. */
function useTestIssuer(): void {
  beforeEach(async () => {
    current = await makeKey('ES256', 'k1')
    as = await startTestIssuer([current.publicJwk])
  })
  afterEach(() => as.close())
}

function makeVerifier() {
  return createVerifier({
    issuer: ISSUER,
    audience: AUDIENCE,
    jwksUri: as.jwksUri,
    tokenCache: false,
    jwksCache: { now: () => clock, cooldownMs: COOLDOWN_MS, maxAgeMs: MAX_AGE_MS, maxStaleMs: MAX_STALE_MS },
  })
}

function withChannel<T>(name: string, run: (events: unknown[]) => Promise<T>): Promise<T> {
  const events: unknown[] = []
  const listener = (event: unknown) => events.push(event)
  subscribe(name, listener)
  return run(events).finally(() => unsubscribe(name, listener))
}

describe('a JWKS outage', () => {
  let server: StartedAuthorizationServer
  beforeEach(async () => {
    server = await startAuthorizationServer()
  })
  afterEach(() => server.close())

  function outageVerifier() {
    return createVerifier({
      issuer: server.issuer,
      audience: server.audience,
      jwksUri: `${server.issuer}/jwks`,
      tokenCache: false,
      jwksCache: {
        now: () => clock,
        cooldownMs: COOLDOWN_MS,
        maxAgeMs: MAX_AGE_MS,
        maxStaleMs: MAX_STALE_MS,
      },
    })
  }
  const jwksFetches = () => server.requests.filter((r) => r.endpoint === 'jwks').length

  it('after warm-up does not stop verification while the last key set is within maxStaleMs', async () => {
    const verifier = outageVerifier()
    await verifier.verify(await server.mintToken())
    expect(jwksFetches()).toBe(1)

    server.outage('jwks')
    clock += MAX_AGE_MS + 1 // the set is now due for a refresh, which fails
    await withChannel(JWKS_ERROR_CHANNEL, async (errors) => {
      await expect(verifier.verify(await server.mintToken())).resolves.toMatchObject({
        clientId: 'test-client',
      })
      expect(jwksFetches()).toBe(2)
      expect(errors).toHaveLength(1) // surfaced as a diagnostics event, not as a 401
    })
    // Many more verifications during the outage: still served, and the endpoint is not hammered.
    for (let i = 0; i < 50; i++) await verifier.verify(await server.mintToken())
    expect(server.takeRequests({ endpoint: 'jwks' }).map((r) => r.status)).toEqual([200, 503])
  })

  it('becomes a 503-class error once the last key set is too old', async () => {
    const verifier = outageVerifier()
    await verifier.verify(await server.mintToken())
    server.outage('jwks')
    clock += MAX_AGE_MS + MAX_STALE_MS + 1
    await expect(verifier.verify(await server.mintToken())).rejects.toThrow(TemporarilyUnavailableError)
  })

  it('with no key set ever fetched is a 503-class error, not invalid_token', async () => {
    server.outage('jwks')
    const verifier = outageVerifier()
    const err = await verifier.verify(await server.mintToken()).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(TemporarilyUnavailableError)
    expect((err as TemporarilyUnavailableError).status).toBe(503)
  })

  it('with the connection reset is a 503-class error too', async () => {
    server.outage('jwks', { reset: true })
    const verifier = outageVerifier()
    await expect(verifier.verify(await server.mintToken())).rejects.toThrow(TemporarilyUnavailableError)
    expect(server.takeRequests({ endpoint: 'jwks' }).map((r) => r.status)).toEqual([undefined])
  })

  it('recovers on its own when the endpoint comes back', async () => {
    server.outage('jwks')
    const verifier = outageVerifier()
    await expect(verifier.verify(await server.mintToken())).rejects.toThrow(TemporarilyUnavailableError)
    server.restore()
    clock += COOLDOWN_MS
    await expect(verifier.verify(await server.mintToken())).resolves.toBeDefined()
  })
})

describe('random unknown kids', () => {
  useTestIssuer()

  it('cause at most one JWKS fetch per cooldown over 10,000 requests', async () => {
    const verifier = makeVerifier()
    await verifier.verify(await mintToken(current))
    const fetchesAfterWarmUp = as.counts.jwks
    const payload = encodeJson(accessTokenClaims())
    const periods = 4
    const perPeriod = 2_500
    let refused = 0
    await withChannel(JWKS_FETCH_CHANNEL, async (fetches) => {
      for (let period = 0; period < periods; period++) {
        clock += COOLDOWN_MS
        for (let batch = 0; batch < perPeriod / 500; batch++) {
          const results = await Promise.allSettled(
            Array.from({ length: 500 }, () => {
              const kid = `kid-${Math.random().toString(36).slice(2)}`
              return verifier.verify(`${encodeJson({ alg: 'ES256', typ: 'at+jwt', kid })}.${payload}.AAAA`)
            }),
          )
          refused += results.filter(
            (r) => r.status === 'rejected' && r.reason instanceof InvalidTokenError,
          ).length
        }
      }
      expect(fetches.length).toBeLessThanOrEqual(periods)
      expect(fetches.length).toBeGreaterThanOrEqual(1)
    })
    expect(refused).toBe(periods * perPeriod)
    expect(as.counts.jwks - fetchesAfterWarmUp).toBeLessThanOrEqual(periods)
    // The real key still works throughout.
    await expect(verifier.verify(await mintToken(current))).resolves.toBeDefined()
  })
})

describe('key rotation', () => {
  useTestIssuer()
  it('picks up a new kid on first sight', async () => {
    const verifier = makeVerifier()
    const oldToken = await mintToken(current)
    await verifier.verify(oldToken)
    const next = await makeKey('ES256', 'k2')
    as.setKeys([current.publicJwk, next.publicJwk])
    clock += COOLDOWN_MS
    await expect(verifier.verify(await mintToken(next))).resolves.toMatchObject({ clientId: 'service-a' })
    await expect(verifier.verify(oldToken)).resolves.toBeDefined()
  })

  it('picks up a new kid at once after a routine fetch: the cooldown only follows unknown-kid refetches', async () => {
    const verifier = makeVerifier()
    await verifier.verify(await mintToken(current)) // the routine first fetch
    const second = await makeKey('ES256', 'k2')
    as.setKeys([current.publicJwk, second.publicJwk])
    // Same instant as the first fetch: no cooldown stands in the way.
    await expect(verifier.verify(await mintToken(second))).resolves.toMatchObject({ clientId: 'service-a' })
    expect(as.counts.jwks).toBe(2)

    clock += MAX_AGE_MS + 1
    await verifier.verify(await mintToken(current)) // the routine refetch of an expired set
    expect(as.counts.jwks).toBe(3)
    const third = await makeKey('ES256', 'k3')
    as.setKeys([second.publicJwk, third.publicJwk])
    await expect(verifier.verify(await mintToken(third))).resolves.toMatchObject({ clientId: 'service-a' })
    expect(as.counts.jwks).toBe(4)
  })

  it('refuses tokens of a key withdrawn from the set once the set is refreshed', async () => {
    const verifier = makeVerifier()
    const oldToken = await mintToken(current)
    await verifier.verify(oldToken)
    const next = await makeKey('ES256', 'k2')
    as.setKeys([next.publicJwk])
    clock += MAX_AGE_MS + 1
    await expect(verifier.verify(await mintToken(next))).resolves.toBeDefined()
    await expect(verifier.verify(oldToken)).rejects.toThrow(InvalidTokenError)
  })
})
