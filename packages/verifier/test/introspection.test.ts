/**
 * RFC 7662 introspection of opaque tokens (and of JWTs with `mode: 'all'`), against an
 * introspection endpoint on 127.0.0.1 whose answers the test decides.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { ConfigurationError, clientSecretBasic } from '@oauth-m2m/core'
import { encodeBasicCredentials } from '@oauth-m2m/core/internal'
import {
  createVerifier,
  INTROSPECTION_CHANNEL,
  type IntrospectionEvent,
  type IntrospectionOptions,
  InvalidTokenError,
  TemporarilyUnavailableError,
  VerifierClosedError,
  type VerifierOptions,
} from '@oauth-m2m/verifier'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { accessTokenClaims, makeKey, mintToken } from './support/keys.js'
import {
  type IntrospectionCall,
  type IntrospectionReply,
  startTestIssuer,
  type TestIssuer,
} from './support/test-issuer.js'

const AUDIENCE = 'https://api.b.example'
const OPAQUE = 'Zm9vYmFyLW9wYXF1ZS10b2tlbi0xMjM0NTY3ODkw'

let as: TestIssuer
let calls: IntrospectionCall[]
/** The clock (`now`) of the verifiers that are given one, epoch ms. */
let clockMs: number
const now = () => clockMs
/** Introspection answers by token (`undefined`: never answer); unknown tokens are inactive. */
let answers: Map<string, IntrospectionReply>

function activeAnswer(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000)
  return {
    active: true,
    iss: as.issuer,
    aud: AUDIENCE,
    client_id: 'service-a',
    sub: 'service-a',
    scope: 'read:things',
    token_type: 'Bearer',
    exp: now + 600,
    iat: now,
    jti: 'opaque-1',
    ...overrides,
  }
}

beforeEach(async () => {
  clockMs = Date.now()
  as = await startTestIssuer()
  calls = []
  answers = new Map([[OPAQUE, { body: activeAnswer() }]])
  as.onIntrospect((call) => {
    calls.push(call)
    const token = call.form.get('token') ?? ''
    return answers.has(token) ? answers.get(token) : { body: { active: false } }
  })
})
afterEach(async () => {
  await as.close()
})

function makeVerifier(
  introspection: Partial<IntrospectionOptions> = {},
  options: Partial<VerifierOptions> = {},
) {
  return createVerifier({
    issuer: as.issuer,
    audience: AUDIENCE,
    introspection: {
      endpoint: as.introspectionEndpoint,
      clientId: 'api-b',
      auth: clientSecretBasic('api-secret'),
      ...introspection,
    },
    ...options,
  })
}

describe('an opaque token', () => {
  it('is introspected with an authenticated RFC 7662 request', async () => {
    const verifier = makeVerifier()
    await verifier.verify(OPAQUE)
    expect(calls).toHaveLength(1)
    const [call] = calls
    expect(call!.contentType).toBe('application/x-www-form-urlencoded')
    expect(Object.fromEntries(call!.form)).toEqual({ token: OPAQUE, token_type_hint: 'access_token' })
    expect(call!.authorization).toBe(encodeBasicCredentials('api-b', 'api-secret'))
  })

  it('yields the principal of an active answer', async () => {
    const answer = activeAnswer()
    answers.set(OPAQUE, { body: answer })
    const principal = await makeVerifier().verify(OPAQUE, { requiredScopes: ['read:things'] })
    expect(principal).toEqual({
      clientId: 'service-a',
      subject: 'service-a',
      scopes: ['read:things'],
      audience: [AUDIENCE],
      issuer: as.issuer,
      expiresAt: (answer.exp as number) * 1000,
      jti: 'opaque-1',
      claims: answer,
      source: 'introspection',
    })
  })

  it('takes the endpoint from the issuer metadata when none is given', async () => {
    const verifier = makeVerifier({ endpoint: undefined })
    await expect(verifier.verify(OPAQUE)).resolves.toMatchObject({ source: 'introspection' })
    expect(as.counts.metadata).toBe(1)
    expect(calls).toHaveLength(1)
  })

  it('is refused when the answer says inactive', async () => {
    const err = await makeVerifier()
      .verify('some-revoked-token')
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(InvalidTokenError)
    expect((err as Error).message).toBe('the token is not active')
  })

  it.each([
    ['another audience', { aud: 'https://api.c.example' }, /audience/],
    ['no audience', { aud: undefined }, /"aud"/],
    ['another issuer', { iss: 'https://evil.example' }, /issuer/],
    ['a past exp', { exp: Math.floor(Date.now() / 1000) - 60 }, /expired/],
    ['a future nbf', { nbf: Math.floor(Date.now() / 1000) + 600 }, /not valid yet/],
    ['no client_id', { client_id: undefined }, /client_id/],
  ])('is refused when the active answer names %s', async (_name, overrides, message) => {
    answers.set(OPAQUE, { body: activeAnswer(overrides) })
    await expect(makeVerifier().verify(OPAQUE)).rejects.toThrow(message)
  })

  it('is refused when it lacks a required scope', async () => {
    await expect(makeVerifier().verify(OPAQUE, { requiredScopes: ['write:things'] })).rejects.toMatchObject({
      error: 'insufficient_scope',
      requiredScopes: ['write:things'],
    })
  })
})

describe('the introspection cache', () => {
  it('answers a second verification of one token without a second call', async () => {
    const verifier = makeVerifier()
    const first = await verifier.verify(OPAQUE)
    expect(await verifier.verify(OPAQUE)).toBe(first)
    expect(calls).toHaveLength(1)
  })

  it('lets concurrent lookups of one token share one call', async () => {
    answers.set(OPAQUE, { body: activeAnswer(), delayMs: 100 })
    const verifier = makeVerifier()
    const principals = await Promise.all(Array.from({ length: 50 }, () => verifier.verify(OPAQUE)))
    expect(calls).toHaveLength(1)
    expect(new Set(principals).size).toBe(1)
  })

  it('keeps an inactive answer for inactiveTtlMs, then asks again', async () => {
    const verifier = makeVerifier({ inactiveTtlMs: 200 }, { now })
    await expect(verifier.verify('unknown-token')).rejects.toThrow(InvalidTokenError)
    clockMs += 200 // lru-cache counts an answer stale once it is older than its TTL
    await expect(verifier.verify('unknown-token')).rejects.toThrow(InvalidTokenError)
    expect(calls).toHaveLength(1)
    clockMs += 1
    await expect(verifier.verify('unknown-token')).rejects.toThrow(InvalidTokenError)
    expect(calls).toHaveLength(2)
  })

  it('keeps an inactive answer for inactiveTtlMs of the real clock without a now option', async () => {
    const verifier = makeVerifier({ inactiveTtlMs: 200 })
    await expect(verifier.verify('unknown-token')).rejects.toThrow(InvalidTokenError)
    await expect(verifier.verify('unknown-token')).rejects.toThrow(InvalidTokenError)
    expect(calls).toHaveLength(1)
    await vi.waitFor(
      async () => {
        await expect(verifier.verify('unknown-token')).rejects.toThrow(InvalidTokenError)
        expect(calls).toHaveLength(2)
      },
      { timeout: 5000, interval: 50 },
    )
  })

  it('lets a revoked token become inactive after maxTtlMs', async () => {
    const verifier = makeVerifier({ maxTtlMs: 300 }, { now })
    const principal = await verifier.verify(OPAQUE)
    answers.set(OPAQUE, { body: { active: false } }) // revoked at the authorization server
    clockMs += 300
    expect(await verifier.verify(OPAQUE)).toBe(principal)
    clockMs += 1
    await expect(verifier.verify(OPAQUE)).rejects.toThrow('the token is not active')
    expect(calls).toHaveLength(2)
  })

  it('never answers with a token past its exp, even from the cache', async () => {
    const nowSec = Math.floor(clockMs / 1000)
    answers.set(OPAQUE, { body: activeAnswer({ exp: nowSec + 10 }) })
    const verifier = makeVerifier({}, { clockToleranceSec: 0, now })
    await verifier.verify(OPAQUE)
    clockMs = (nowSec + 10) * 1000
    await expect(verifier.verify(OPAQUE)).rejects.toThrow(/expired/)
    expect(calls).toHaveLength(1)
  })

  it('does not keep failures: the first verification after the failure cooldown asks again', async () => {
    answers.set(OPAQUE, { status: 500, body: { error: 'server_error' } })
    const verifier = makeVerifier({ failureCooldownMs: 1000 }, { now })
    await expect(verifier.verify(OPAQUE)).rejects.toThrow(TemporarilyUnavailableError)
    answers.set(OPAQUE, { body: activeAnswer() })
    clockMs += 1000
    await expect(verifier.verify(OPAQUE)).resolves.toBeDefined()
    expect(calls).toHaveLength(2)
  })
})

describe('an introspection endpoint that cannot answer', () => {
  it.each([
    ['answers 500', { status: 500, body: { error: 'server_error' } }],
    ['answers 503', { status: 503, body: { error: 'temporarily_unavailable' } }],
    ['refuses our credentials', { status: 401, body: { error: 'invalid_client' } }],
    ['answers without "active"', { body: { scope: 'x' } }],
    ['answers a non-object', { body: [true] }],
  ])('%s: a 503-class error, not a 401', async (_name, reply) => {
    answers.set(OPAQUE, reply)
    const err = await makeVerifier()
      .verify(OPAQUE)
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(TemporarilyUnavailableError)
    expect((err as TemporarilyUnavailableError).status).toBe(503)
  })

  it('is down: a 503-class error', async () => {
    const down = await startTestIssuer()
    const endpoint = down.introspectionEndpoint
    await down.close()
    await expect(makeVerifier({ endpoint }).verify(OPAQUE)).rejects.toThrow(TemporarilyUnavailableError)
  })

  it('hangs: a 503-class error after timeoutMs', async () => {
    answers.set(OPAQUE, undefined)
    await expect(makeVerifier({}, { timeoutMs: 200 }).verify(OPAQUE)).rejects.toThrow(
      TemporarilyUnavailableError,
    )
  })

  it('never puts the token in the error', async () => {
    answers.set(OPAQUE, { status: 500, body: { error: 'server_error', token: OPAQUE } })
    const err = (await makeVerifier()
      .verify(OPAQUE)
      .catch((e: unknown) => e)) as TemporarilyUnavailableError
    expect(`${err.message} ${JSON.stringify(err.toJSON())} ${String(err.cause)}`).not.toContain(OPAQUE)
  })
})

describe('after a failed introspection call', () => {
  const COOLDOWN_MS = 1000
  const tokens = (n: number) => Array.from({ length: n }, (_, i) => `opaque-token-${i}-abcdefghijklmnop`)
  let outage: IntrospectionReply | 'none'

  beforeEach(() => {
    outage = { status: 503, body: { error: 'temporarily_unavailable' } }
    as.onIntrospect((call) => {
      calls.push(call)
      if (outage !== 'none') return outage
      return answers.get(call.form.get('token') ?? '') ?? { body: { active: false } }
    })
  })

  async function failOnce(verifier: ReturnType<typeof makeVerifier>): Promise<unknown> {
    const err = await verifier.verify('the-first-failing-token-0123456789').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(TemporarilyUnavailableError)
    expect(calls).toHaveLength(1)
    return err
  }

  it('fails uncached tokens fast during the cooldown, sending no request', async () => {
    const verifier = makeVerifier({ failureCooldownMs: COOLDOWN_MS }, { now })
    const first = await failOnce(verifier)
    clockMs += COOLDOWN_MS - 1
    for (const token of tokens(20)) {
      const err = await verifier.verify(token).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(TemporarilyUnavailableError)
      expect((err as TemporarilyUnavailableError).status).toBe(503)
      expect((err as Error).message).toMatch(/introspection endpoint failed recently/)
      expect((err as Error).message).not.toContain(token)
      expect((err as Error).cause).toBe(first)
    }
    expect(calls).toHaveLength(1)
  })

  it('lets one probe through after the cooldown, shared by the lookups arriving meanwhile', async () => {
    const verifier = makeVerifier({ failureCooldownMs: COOLDOWN_MS }, { now })
    await failOnce(verifier)
    clockMs += COOLDOWN_MS
    outage = { status: 500, body: { error: 'server_error' }, delayMs: 100 }
    const results = await Promise.allSettled(tokens(10).map((token) => verifier.verify(token)))
    expect(calls).toHaveLength(2)
    for (const result of results) {
      expect(result.status).toBe('rejected')
      expect((result as PromiseRejectedResult).reason).toBeInstanceOf(TemporarilyUnavailableError)
    }
    // The failed probe starts a new cooldown.
    await expect(verifier.verify('yet-another-token-0123456789')).rejects.toThrow(/failed recently/)
    expect(calls).toHaveLength(2)
  })

  it('ends the cooldown on a successful probe: every lookup asks again', async () => {
    const verifier = makeVerifier({ failureCooldownMs: COOLDOWN_MS }, { now })
    await failOnce(verifier)
    clockMs += COOLDOWN_MS
    outage = 'none'
    await expect(verifier.verify(OPAQUE)).resolves.toMatchObject({ clientId: 'service-a' })
    // Closed again: concurrent lookups of different tokens go out together, not one probe at a time.
    for (const token of tokens(5)) answers.set(token, { body: { active: false }, delayMs: 500 })
    let settled = 0
    const lookups = tokens(5).map((token) => verifier.verify(token).finally(() => settled++))
    await vi.waitFor(() => expect(calls).toHaveLength(7), { timeout: 5000, interval: 10 })
    expect(settled).toBe(0)
    for (const lookup of lookups) await expect(lookup).rejects.toThrow('the token is not active')
  })

  it('keeps serving cached answers during the cooldown', async () => {
    outage = 'none'
    const verifier = makeVerifier({ failureCooldownMs: COOLDOWN_MS }, { now })
    const principal = await verifier.verify(OPAQUE)
    outage = { status: 502, body: 'bad gateway' }
    await expect(verifier.verify('a-token-that-fails-0123456789')).rejects.toThrow(
      TemporarilyUnavailableError,
    )
    await expect(verifier.verify('another-token-0123456789')).rejects.toThrow(/failed recently/)
    expect(await verifier.verify(OPAQUE)).toBe(principal)
    expect(calls).toHaveLength(2)
  })

  it('counts a failed discovery of the endpoint as a failed call', async () => {
    as.setMetadata({ issuer: 'https://someone-else.example' }) // RFC 8414 §3.3 mismatch
    const verifier = makeVerifier({ endpoint: undefined, failureCooldownMs: COOLDOWN_MS }, { now })
    await expect(verifier.verify(OPAQUE)).rejects.toThrow(TemporarilyUnavailableError)
    expect(as.counts.metadata).toBe(1)
    for (const token of tokens(5)) await expect(verifier.verify(token)).rejects.toThrow(/failed recently/)
    expect(as.counts.metadata).toBe(1)
    expect(calls).toHaveLength(0)
  })

  it('with failureCooldownMs 0, asks again on every uncached lookup', async () => {
    const verifier = makeVerifier({ failureCooldownMs: 0 }, { now })
    for (const token of tokens(5)) await expect(verifier.verify(token)).rejects.toThrow(/answered 503/)
    expect(calls).toHaveLength(5)
  })

  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY])('refuses failureCooldownMs %s', (value) => {
    expect(() => makeVerifier({ failureCooldownMs: value }, { now })).toThrow(ConfigurationError)
  })
})

describe('cancellation', () => {
  it('stops one caller waiting without cancelling the shared call for the others', async () => {
    answers.set(OPAQUE, { body: activeAnswer(), delayMs: 200 })
    const verifier = makeVerifier()
    const controller = new AbortController()
    const impatient = verifier.verify(OPAQUE, { signal: controller.signal })
    const patient = verifier.verify(OPAQUE)
    controller.abort(new Error('gave up'))
    await expect(impatient).rejects.toThrow('gave up')
    await expect(patient).resolves.toMatchObject({ clientId: 'service-a' })
    expect(calls).toHaveLength(1)
  })
})

describe('close()', () => {
  it('abandons a lookup in flight with VerifierClosedError', async () => {
    answers.set(OPAQUE, { body: activeAnswer(), delayMs: 300 })
    const verifier = makeVerifier()
    const pending = verifier.verify(OPAQUE)
    await vi.waitFor(() => expect(calls).toHaveLength(1), { timeout: 5000, interval: 10 })
    await verifier.close()
    const err = await pending.catch((e: unknown) => e)
    expect(err).toBeInstanceOf(VerifierClosedError)
    expect(err).toMatchObject({ code: 'ERR_VERIFIER_CLOSED', status: 503 })
    await expect(verifier.verify(OPAQUE)).rejects.toThrow(VerifierClosedError)
    expect(calls).toHaveLength(1)
  })
})

describe('diagnostics', () => {
  it('publishes each call with its outcome and never the token', async () => {
    const events: IntrospectionEvent[] = []
    const listener = (e: unknown) => events.push(e as IntrospectionEvent)
    subscribe(INTROSPECTION_CHANNEL, listener)
    try {
      const verifier = makeVerifier()
      await verifier.verify(OPAQUE)
      await verifier.verify('inactive-token').catch(() => undefined)
      expect(events.map((e) => [e.endpoint, e.outcome, e.status])).toEqual([
        [as.introspectionEndpoint, 'active', 200],
        [as.introspectionEndpoint, 'inactive', 200],
      ])
      expect(JSON.stringify(events)).not.toContain(OPAQUE)
    } finally {
      unsubscribe(INTROSPECTION_CHANNEL, listener)
    }
  })
})

describe("mode 'all'", () => {
  it('introspects JWTs after the local check and refuses a revoked one', async () => {
    const key = await makeKey('ES256', 'k1')
    as.setKeys([key.publicJwk])
    const claims = accessTokenClaims({ iss: as.issuer, aud: AUDIENCE })
    const jwt = await mintToken(key, claims)
    answers.set(jwt, { body: activeAnswer() })
    const verifier = makeVerifier({ mode: 'all', maxTtlMs: 200 }, { now })
    await expect(verifier.verify(jwt)).resolves.toMatchObject({ source: 'introspection' })
    answers.set(jwt, { body: { active: false } })
    clockMs += 201
    await expect(verifier.verify(jwt)).rejects.toThrow('the token is not active')
  })

  it('never introspects a JWT that fails the local check', async () => {
    const key = await makeKey('ES256', 'k1')
    const forger = await makeKey('ES256', 'k1')
    as.setKeys([key.publicJwk])
    const forged = await mintToken(forger, accessTokenClaims({ iss: as.issuer, aud: AUDIENCE }))
    const verifier = makeVerifier({ mode: 'all' })
    await expect(verifier.verify(forged)).rejects.toThrow(InvalidTokenError)
    expect(calls).toHaveLength(0)
  })
})
