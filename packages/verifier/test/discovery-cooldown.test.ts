/**
 * What the verifier does while the issuer's metadata endpoint fails (500, 404 on both well-known
 * URLs, or no answer at all): one shared discovery attempt, then calls fail fast for
 * `discoveryFailureCooldownMs`, then one probe — on the JWT path (`jwks_uri` from discovery) and on
 * the introspection path (`introspection_endpoint` from discovery), counted at a metadata endpoint
 * on 127.0.0.1. The verifiers read a test clock (`now`) so the cooldown passes without waiting;
 * HTTP timeouts stay real.
 */
import { ConfigurationError, clientSecretBasic } from '@oauth-m2m/core'
import { createVerifier, TemporarilyUnavailableError, type VerifierOptions } from '@oauth-m2m/verifier'
import { bearerAuth } from '@oauth-m2m/verifier/node'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { listenNode } from './middleware/apps.js'
import { httpCall } from './middleware/http-call.js'
import { accessTokenClaims, makeKey, mintToken, type TestKey } from './support/keys.js'
import { type MetadataFailure, startTestIssuer, type TestIssuer } from './support/test-issuer.js'

const AUDIENCE = 'https://api.example'
const COOLDOWN_MS = 10_000
/** Short, so that a hanging metadata endpoint costs each attempt little real time. */
const TIMEOUT_MS = 300
const CALLS = 10
const OPAQUE = 'an-opaque-access-token-0123456789abcdef'

let as: TestIssuer
let key: TestKey
/** The verifiers' clock (`now`), epoch ms. */
let clockMs: number
const now = () => clockMs

beforeEach(async () => {
  clockMs = Date.now()
  key = await makeKey('ES256', 'k1')
  as = await startTestIssuer([key.publicJwk])
})
afterEach(async () => {
  await as.close()
})

const jwt = () => mintToken(key, accessTokenClaims({ iss: as.issuer, aud: AUDIENCE }))

/** Discovery attempts seen by the issuer: each asks the RFC 8414 URL first. */
const attempts = () => as.counts.metadata

function advance(ms: number): void {
  clockMs += ms
}

/** Every result is a rejection with a 503-class `TemporarilyUnavailableError`; returns the errors. */
function expectUnavailable(results: PromiseSettledResult<unknown>[]): TemporarilyUnavailableError[] {
  return results.map((result) => {
    expect(result.status).toBe('rejected')
    const reason = (result as PromiseRejectedResult).reason
    expect(reason).toBeInstanceOf(TemporarilyUnavailableError)
    expect(reason).toMatchObject({ code: 'ERR_TEMPORARILY_UNAVAILABLE', status: 503 })
    return reason as TemporarilyUnavailableError
  })
}

const FAILURES: [string, MetadataFailure][] = [
  ['answers 500', 500],
  ['answers 404 at both well-known URLs', 404],
  ['never answers', 'hang'],
]

describe.each([
  {
    path: 'the JWT path (jwks_uri from discovery)',
    options: (): Partial<VerifierOptions> => ({}),
    token: jwt,
    expectedSource: 'jwt',
  },
  {
    path: 'the introspection path (introspection_endpoint from discovery)',
    // Introspection's own breaker is off, so that only the discovery cooldown stands between the
    // callers and the metadata endpoint.
    options: (): Partial<VerifierOptions> => ({
      introspection: { clientId: 'api', auth: clientSecretBasic('api-secret'), failureCooldownMs: 0 },
    }),
    token: async () => OPAQUE,
    expectedSource: 'introspection',
  },
])('on $path, a metadata endpoint that', ({ options, token, expectedSource }) => {
  function makeVerifier() {
    return createVerifier({
      issuer: as.issuer,
      audience: AUDIENCE,
      tokenCache: false,
      timeoutMs: TIMEOUT_MS,
      discoveryFailureCooldownMs: COOLDOWN_MS,
      now,
      ...options(),
    })
  }

  beforeEach(() => {
    as.onIntrospect(() => ({
      body: {
        active: true,
        iss: as.issuer,
        aud: AUDIENCE,
        client_id: 'service-a',
        scope: 'read:things',
        exp: Math.floor(Date.now() / 1000) + 600,
      },
    }))
  })

  it.each(FAILURES)(
    '%s gets one shared request, then fast failures, then one probe',
    async (_name, failure) => {
      as.setMetadataFailure(failure)
      const verifier = makeVerifier()

      // Concurrent first calls share one discovery attempt.
      const first = await Promise.allSettled(
        Array.from({ length: CALLS }, async () => verifier.verify(await token())),
      )
      const [firstFailure] = expectUnavailable(first)
      expect(attempts()).toBe(1)
      expect(as.counts.openidConfiguration).toBe(failure === 404 ? 1 : 0)

      // During the cooldown: no request at all, and the error says why, with the failure as cause.
      advance(COOLDOWN_MS - 1)
      const during = await Promise.allSettled(
        Array.from({ length: CALLS }, async () => verifier.verify(await token())),
      )
      for (const err of expectUnavailable(during)) {
        expect(err.message).toMatch(/metadata endpoint failed recently/)
        expect(err.cause).toBe(firstFailure)
      }
      expect(attempts()).toBe(1)

      // After it: one probe for all the callers arriving meanwhile; its failure starts a new cooldown.
      advance(1)
      const probed = await Promise.allSettled(
        Array.from({ length: CALLS }, async () => verifier.verify(await token())),
      )
      expectUnavailable(probed)
      expect(attempts()).toBe(2)
      await expect(verifier.verify(await token())).rejects.toThrow(/failed recently/)
      expect(attempts()).toBe(2)

      // Recovery: the next probe succeeds and verification works from then on.
      as.setMetadataFailure(undefined)
      advance(COOLDOWN_MS)
      await expect(verifier.verify(await token())).resolves.toMatchObject({ source: expectedSource })
      await expect(verifier.verify(await token())).resolves.toMatchObject({ source: expectedSource })
      expect(attempts()).toBe(3)
    },
  )

  it('that hangs makes only callers of the one attempt wait; callers after it fail at once', async () => {
    as.setMetadataFailure('hang')
    const verifier = makeVerifier()
    const early = Array.from({ length: CALLS }, async () => verifier.verify(await token()))
    await vi.waitFor(() => expect(attempts()).toBe(1), { timeout: 5_000, interval: 10 })
    // Arriving while the attempt waits: they join it rather than sending their own.
    const late = Array.from({ length: CALLS }, async () => verifier.verify(await token()))
    expectUnavailable(await Promise.allSettled([...early, ...late]))
    expect(attempts()).toBe(1)

    const after = await Promise.allSettled(
      Array.from({ length: CALLS }, async () => verifier.verify(await token())),
    )
    for (const err of expectUnavailable(after)) expect(err.message).toMatch(/failed recently/)
    expect(attempts()).toBe(1)
  })
})

describe('discoveryFailureCooldownMs', () => {
  it('0 disables the cooldown: every call asks again', async () => {
    as.setMetadataFailure(500)
    const verifier = createVerifier({ issuer: as.issuer, audience: AUDIENCE, discoveryFailureCooldownMs: 0 })
    for (let i = 1; i <= 3; i++) {
      await expect(verifier.verify(await jwt())).rejects.toThrow(TemporarilyUnavailableError)
      expect(attempts()).toBe(i)
    }
  })

  it('defaults to 2 000 ms', async () => {
    as.setMetadataFailure(500)
    const verifier = createVerifier({ issuer: as.issuer, audience: AUDIENCE, now })
    await expect(verifier.verify(await jwt())).rejects.toThrow(TemporarilyUnavailableError)
    advance(1_999)
    await expect(verifier.verify(await jwt())).rejects.toThrow(/after a 2000 ms cooldown/)
    expect(attempts()).toBe(1)
    advance(1)
    as.setMetadataFailure(undefined)
    await expect(verifier.verify(await jwt())).resolves.toMatchObject({ source: 'jwt' })
    expect(attempts()).toBe(2)
  })

  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY, '1000'])('refuses %s', (value) => {
    expect(() =>
      createVerifier({
        issuer: as.issuer,
        audience: AUDIENCE,
        discoveryFailureCooldownMs: value as number,
      }),
    ).toThrow(ConfigurationError)
  })
})

describe('the middleware, while discovery fails', () => {
  it('answers 503 with Retry-After, not 401 or 500, without a metadata request per API call', async () => {
    as.setMetadataFailure(500)
    const verifier = createVerifier({
      issuer: as.issuer,
      audience: AUDIENCE,
      discoveryFailureCooldownMs: COOLDOWN_MS,
    })
    const auth = bearerAuth({ verifier, retryAfterSec: 3 })
    const app = await listenNode((req, res) => {
      void auth(req, res, () => res.writeHead(200).end('through'))
    })
    try {
      for (let i = 0; i < 5; i++) {
        const answer = await httpCall(`${app.url}/things`, {
          headers: { authorization: `Bearer ${await jwt()}` },
        })
        expect(answer.status).toBe(503)
        expect(answer.headers['retry-after']).toBe('3')
        expect(answer.headers['www-authenticate']).toBeUndefined()
        expect(JSON.parse(answer.body)).toMatchObject({ error: 'temporarily_unavailable' })
      }
      expect(attempts()).toBe(1)
    } finally {
      await app.close()
    }
  })
})
