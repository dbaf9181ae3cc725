/**
 * `check(claims, principal)`: the application's own claim rule. What it throws becomes a fixed
 * `invalid_token` (the thrown message never reaches the caller), a thrown `BearerError` keeps its
 * answer, and it runs once per token while the token is cached, for JWTs and introspection alike.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { ConfigurationError, clientSecretBasic } from '@oauth-m2m/core'
import {
  type ApplicationCheck,
  CHECK_REFUSED_DESCRIPTION,
  createVerifier,
  InsufficientScopeError,
  InvalidTokenError,
  type Principal,
  REJECTION_CHANNEL,
  type RejectionEvent,
  TemporarilyUnavailableError,
  type VerifierOptions,
} from '@oauth-m2m/verifier'
import { bearerAuth } from '@oauth-m2m/verifier/fetch'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AUDIENCE, accessTokenClaims, ISSUER, makeKey, mintToken, type TestKey } from './support/keys.js'
import { startTestIssuer, type TestIssuer } from './support/test-issuer.js'

let as: TestIssuer
let key: TestKey

beforeAll(async () => {
  key = await makeKey('ES256', 'check-key')
  as = await startTestIssuer([key.publicJwk])
})
afterAll(() => as.close())

const SECRET_REASON = 'tenant 4711 is blocked by rule internal-db-7'

function verifierFor(check: ApplicationCheck, options: Partial<VerifierOptions> = {}) {
  return createVerifier({ issuer: ISSUER, audience: AUDIENCE, jwksUri: as.jwksUri, check, ...options })
}

/** A check that counts its runs and throws what `decide` returns, if anything. */
function countingCheck(decide: (claims: Readonly<Record<string, unknown>>) => unknown = () => undefined) {
  const seen: Array<{ claims: Readonly<Record<string, unknown>>; principal: Principal }> = []
  const check: ApplicationCheck = (claims, principal) => {
    seen.push({ claims, principal })
    const thrown = decide(claims)
    if (thrown !== undefined) throw thrown
  }
  return { check, seen }
}

describe('a check that passes', () => {
  it('sees the verified claims and principal, and the token is accepted', async () => {
    const { check, seen } = countingCheck()
    const verifier = verifierFor(check)
    const principal = await verifier.verify(await mintToken(key, accessTokenClaims({ tid: 'tenant-1' })))
    expect(seen).toHaveLength(1)
    expect(seen[0]!.principal).toBe(principal)
    expect(seen[0]!.claims).toBe(principal.claims)
    expect(seen[0]!.claims.tid).toBe('tenant-1')
    expect(Object.isFrozen(seen[0]!.claims)).toBe(true)
    await verifier.close()
  })

  it('may be async', async () => {
    const verifier = verifierFor(async (claims) => {
      await new Promise((resolve) => setTimeout(resolve, 1))
      if (claims.token_use !== 'access') throw new Error('not an access token')
    })
    await expect(
      verifier.verify(await mintToken(key, accessTokenClaims({ token_use: 'access' }))),
    ).resolves.toBeTruthy()
    await expect(
      verifier.verify(await mintToken(key, accessTokenClaims({ token_use: 'id' }))),
    ).rejects.toThrow(CHECK_REFUSED_DESCRIPTION)
    await verifier.close()
  })
})

describe('a check that throws', () => {
  it.each<[string, ApplicationCheck]>([
    [
      'an Error',
      () => {
        throw new Error(SECRET_REASON)
      },
    ],
    ['a rejected promise', () => Promise.reject(new TypeError(SECRET_REASON))],
    [
      'a string',
      () => {
        throw SECRET_REASON
      },
    ],
  ])(
    '(%s) refuses the token with a fixed description, keeping what was thrown as cause',
    async (_, check) => {
      const verifier = verifierFor(check)
      const err = await verifier.verify(await mintToken(key)).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(InvalidTokenError)
      expect((err as InvalidTokenError).message).toBe(CHECK_REFUSED_DESCRIPTION)
      expect((err as InvalidTokenError).message).not.toContain('4711')
      const cause = (err as Error).cause
      expect(cause instanceof Error ? cause.message : cause).toBe(SECRET_REASON)
      expect(JSON.stringify(err)).not.toContain('4711')
      await verifier.close()
    },
  )

  it('keeps a thrown BearerError as it is', async () => {
    const scopeError = new InsufficientScopeError(['admin'])
    const verifier = verifierFor(() => {
      throw scopeError
    })
    await expect(verifier.verify(await mintToken(key))).rejects.toBe(scopeError)
    await verifier.close()
    const unavailable = new TemporarilyUnavailableError('the tenant directory is down')
    const second = verifierFor(async () => {
      throw unavailable
    })
    await expect(second.verify(await mintToken(key))).rejects.toBe(unavailable)
    await second.close()
  })

  it('never puts the thrown message in the HTTP answer or the rejection event', async () => {
    const verifier = verifierFor(() => {
      throw new Error(SECRET_REASON)
    })
    const auth = bearerAuth({ verifier, realm: 'api' })
    const events: RejectionEvent[] = []
    const listener = (event: unknown) => events.push(event as RejectionEvent)
    subscribe(REJECTION_CHANNEL, listener)
    let answer: Principal | Response
    try {
      answer = await auth(
        new Request('http://127.0.0.1/things', {
          headers: { authorization: `Bearer ${await mintToken(key)}` },
        }),
      )
    } finally {
      unsubscribe(REJECTION_CHANNEL, listener)
    }
    expect(answer).toBeInstanceOf(Response)
    const response = answer as Response
    expect(response.status).toBe(401)
    const challenge = response.headers.get('www-authenticate') ?? ''
    expect(challenge).toContain('error="invalid_token"')
    expect(challenge).toContain(`error_description="${CHECK_REFUSED_DESCRIPTION}"`)
    const body = await response.text()
    expect(JSON.parse(body)).toEqual({ error: 'invalid_token', error_description: CHECK_REFUSED_DESCRIPTION })
    expect(challenge + body).not.toContain('4711')
    expect(events).toEqual([
      { code: 'ERR_INVALID_TOKEN', error: 'invalid_token', message: CHECK_REFUSED_DESCRIPTION },
    ])
    await verifier.close()
  })
})

describe('how often it runs', () => {
  it('once per token while the verified-token cache holds it', async () => {
    const { check, seen } = countingCheck()
    const verifier = verifierFor(check)
    const token = await mintToken(key)
    for (let i = 0; i < 5; i++) await verifier.verify(token)
    await expect(verifier.verify(token, { requiredScopes: ['admin'] })).rejects.toBeInstanceOf(
      InsufficientScopeError,
    )
    expect(seen).toHaveLength(1)
    await verifier.verify(await mintToken(key))
    expect(seen).toHaveLength(2)
    await verifier.close()
  })

  it('on every verification when the cache is off', async () => {
    const { check, seen } = countingCheck()
    const verifier = verifierFor(check, { tokenCache: false })
    const token = await mintToken(key)
    for (let i = 0; i < 3; i++) await verifier.verify(token)
    expect(seen).toHaveLength(3)
    await verifier.close()
  })

  it('again for a refused token, which is never cached', async () => {
    const { check, seen } = countingCheck(() => new Error('no'))
    const verifier = verifierFor(check)
    const token = await mintToken(key)
    for (let i = 0; i < 2; i++)
      await expect(verifier.verify(token)).rejects.toThrow(CHECK_REFUSED_DESCRIPTION)
    expect(seen).toHaveLength(2)
    await verifier.close()
  })

  it('not at all for a token the built-in checks refuse', async () => {
    const { check, seen } = countingCheck()
    const verifier = verifierFor(check)
    await expect(
      verifier.verify(await mintToken(key, accessTokenClaims({ aud: 'https://other' }))),
    ).rejects.toThrow('not meant for this audience')
    expect(seen).toHaveLength(0)
    await verifier.close()
  })
})

describe('with introspection', () => {
  const OPAQUE = 'b3BhcXVlLXRva2VuLWZvci10aGUtY2hlY2staG9vaw'

  function introspecting(check: ApplicationCheck, mode: 'opaque' | 'all' = 'opaque') {
    as.onIntrospect(() => ({
      body: { active: true, iss: ISSUER, aud: AUDIENCE, client_id: 'service-a', scope: 'read', tid: 't-1' },
    }))
    return verifierFor(check, {
      introspection: {
        endpoint: as.introspectionEndpoint,
        clientId: 'api',
        auth: clientSecretBasic('secret'),
        mode,
      },
    })
  }

  it('runs once per cached answer, on the answer', async () => {
    const { check, seen } = countingCheck()
    const verifier = introspecting(check)
    for (let i = 0; i < 4; i++) await verifier.verify(OPAQUE)
    expect(seen).toHaveLength(1)
    expect(seen[0]!.claims.tid).toBe('t-1')
    expect(seen[0]!.principal.source).toBe('introspection')
    await verifier.close()
  })

  it('remembers its refusal like an inactive answer', async () => {
    const { check, seen } = countingCheck(() => new Error(SECRET_REASON))
    const verifier = introspecting(check)
    for (let i = 0; i < 3; i++) {
      const err = await verifier.verify(OPAQUE).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(InvalidTokenError)
      expect((err as Error).message).toBe(CHECK_REFUSED_DESCRIPTION)
    }
    expect(seen).toHaveLength(1)
    await verifier.close()
  })

  it('does not remember a 503 it throws: the next lookup asks again', async () => {
    const { check, seen } = countingCheck(() => new TemporarilyUnavailableError('directory down'))
    const verifier = introspecting(check)
    for (let i = 0; i < 2; i++) await expect(verifier.verify(OPAQUE)).rejects.toThrow('directory down')
    expect(seen).toHaveLength(2)
    await verifier.close()
  })

  it('runs on the introspection answer only when JWTs are introspected too', async () => {
    const { check, seen } = countingCheck()
    const verifier = introspecting(check, 'all')
    const token = await mintToken(key)
    await verifier.verify(token)
    await verifier.verify(token)
    expect(seen.map((s) => s.principal.source)).toEqual(['introspection'])
    await verifier.close()
  })
})

it('a check that is not a function is a ConfigurationError', () => {
  expect(() => verifierFor('token_use' as unknown as ApplicationCheck)).toThrow(ConfigurationError)
})
