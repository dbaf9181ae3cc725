import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { ConfigurationError, OAuthM2MError } from '@oauth-m2m/core'
import {
  createVerifier,
  DEFAULT_CLOCK_TOLERANCE_SEC,
  InsufficientScopeError,
  InvalidTokenError,
  REJECTION_CHANNEL,
  type RejectionEvent,
  VerifierClosedError,
  type VerifierOptions,
} from '@oauth-m2m/verifier'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AUDIENCE, accessTokenClaims, ISSUER, makeKey, mintToken, type TestKey } from './support/keys.js'
import { startTestIssuer, type TestIssuer } from './support/test-issuer.js'

let as: TestIssuer
const keys: Record<string, TestKey> = {}

beforeAll(async () => {
  for (const alg of [
    'ES256',
    'ES384',
    'ES512',
    'RS256',
    'RS384',
    'RS512',
    'PS256',
    'PS384',
    'PS512',
    'EdDSA',
  ]) {
    keys[alg] = await makeKey(alg, `key-${alg}`)
  }
  as = await startTestIssuer(Object.values(keys).map((k) => k.publicJwk))
})
afterAll(() => as.close())

/** The events published on the rejection channel while `action` runs. */
async function rejectionsDuring(action: () => Promise<unknown>): Promise<RejectionEvent[]> {
  const events: RejectionEvent[] = []
  const listener = (event: unknown) => events.push(event as RejectionEvent)
  subscribe(REJECTION_CHANNEL, listener)
  try {
    await action()
  } finally {
    unsubscribe(REJECTION_CHANNEL, listener)
  }
  return events
}

function verifierFor(overrides: Partial<VerifierOptions> = {}) {
  return createVerifier({ issuer: ISSUER, audience: AUDIENCE, jwksUri: as.jwksUri, ...overrides })
}

describe('a valid RFC 9068 access token', () => {
  it.each(
    Object.keys({
      ES256: 1,
      ES384: 1,
      ES512: 1,
      RS256: 1,
      RS384: 1,
      RS512: 1,
      PS256: 1,
      PS384: 1,
      PS512: 1,
      EdDSA: 1,
    }),
  )('signed with %s verifies', async (alg) => {
    const verifier = verifierFor({ tokenCache: false })
    const principal = await verifier.verify(await mintToken(keys[alg]!))
    expect(principal.clientId).toBe('service-a')
    await verifier.close()
  })

  it('yields the principal of the token', async () => {
    const verifier = verifierFor()
    const claims = accessTokenClaims({ jti: 'id-1', sub: 'user-1', aud: [AUDIENCE, 'https://other.example'] })
    const principal = await verifier.verify(await mintToken(keys.ES256!, claims))
    expect(principal).toEqual({
      clientId: 'service-a',
      subject: 'user-1',
      scopes: ['read:things', 'write:things'],
      audience: [AUDIENCE, 'https://other.example'],
      issuer: ISSUER,
      expiresAt: (claims.exp as number) * 1000,
      jti: 'id-1',
      claims,
      source: 'jwt',
    })
    expect(Object.isFrozen(principal) && Object.isFrozen(principal.scopes)).toBe(true)
  })

  it('has an empty scope list without a scope claim and no subject without sub', async () => {
    const verifier = verifierFor()
    const principal = await verifier.verify(
      await mintToken(keys.ES256!, accessTokenClaims({ scope: undefined, sub: undefined })),
    )
    expect(principal.scopes).toEqual([])
    expect(principal.subject).toBeUndefined()
  })

  it('is accepted with typ application/at+jwt in any letter case', async () => {
    const verifier = verifierFor({ tokenCache: false })
    for (const typ of ['application/at+jwt', 'AT+JWT', 'Application/At+Jwt']) {
      await expect(verifier.verify(await mintToken(keys.ES256!, undefined, { typ }))).resolves.toMatchObject({
        clientId: 'service-a',
      })
    }
  })

  it('is accepted for any of several configured audiences and issuers', async () => {
    const verifier = verifierFor({
      audience: ['https://x.example', AUDIENCE],
      issuer: ['https://y.example', ISSUER],
    })
    await expect(verifier.verify(await mintToken(keys.ES256!))).resolves.toMatchObject({ issuer: ISSUER })
  })

  it('is judged with 5 s of clock tolerance by default', async () => {
    const clockMs = Date.now()
    const now = Math.floor(clockMs / 1000)
    const verifier = verifierFor({ tokenCache: false, now: () => clockMs })
    const verdict = async (claims: Record<string, unknown>) =>
      verifier.verify(await mintToken(keys.ES256!, accessTokenClaims(claims))).then(
        () => 'accepted',
        (err: unknown) => (err instanceof InvalidTokenError ? 'refused' : err),
      )
    expect(DEFAULT_CLOCK_TOLERANCE_SEC).toBe(5)
    expect(await verdict({ exp: now - 4 })).toBe('accepted')
    expect(await verdict({ exp: now - 5 })).toBe('refused')
    expect(await verdict({ nbf: now + 5, iat: now + 5 })).toBe('accepted')
    expect(await verdict({ nbf: now + 6 })).toBe('refused')
    expect(await verdict({ iat: now + 6 })).toBe('refused')
  })

  it('is accepted within the clock tolerance', async () => {
    const now = Math.floor(Date.now() / 1000)
    const verifier = verifierFor({ clockToleranceSec: 30, tokenCache: false })
    const claims = accessTokenClaims({ exp: now - 10, nbf: now + 10, iat: now + 10 })
    await expect(verifier.verify(await mintToken(keys.ES256!, claims))).resolves.toBeDefined()
    const strict = verifierFor({ clockToleranceSec: 0, tokenCache: false })
    await expect(strict.verify(await mintToken(keys.ES256!, claims))).rejects.toThrow(InvalidTokenError)
  })
})

describe('the typ policy', () => {
  it('refuses a missing typ and typ JWT by default', async () => {
    const verifier = verifierFor()
    await expect(
      verifier.verify(await mintToken(keys.ES256!, undefined, { typ: undefined })),
    ).rejects.toThrow(/no "typ"/)
    await expect(verifier.verify(await mintToken(keys.ES256!, undefined, { typ: 'JWT' }))).rejects.toThrow(
      InvalidTokenError,
    )
  })

  it('accepts a missing typ and typ JWT when lenient, but never other types', async () => {
    const verifier = verifierFor({ typ: 'lenient' })
    await expect(
      verifier.verify(await mintToken(keys.ES256!, undefined, { typ: undefined })),
    ).resolves.toBeDefined()
    await expect(
      verifier.verify(await mintToken(keys.ES256!, undefined, { typ: 'JWT' })),
    ).resolves.toBeDefined()
    await expect(
      verifier.verify(await mintToken(keys.ES256!, undefined, { typ: 'dpop+jwt' })),
    ).rejects.toThrow(InvalidTokenError)
  })
})

describe('scopes', () => {
  it('passes when every required scope is granted', async () => {
    const verifier = verifierFor()
    const token = await mintToken(keys.ES256!)
    await expect(verifier.verify(token, { requiredScopes: ['read:things'] })).resolves.toBeDefined()
    await expect(
      verifier.verify(token, { requiredScopes: ['read:things', 'write:things'] }),
    ).resolves.toBeDefined()
  })

  it('fails with InsufficientScopeError listing every required scope', async () => {
    const verifier = verifierFor()
    const token = await mintToken(keys.ES256!)
    const err = await verifier
      .verify(token, { requiredScopes: ['read:things', 'admin'] })
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(InsufficientScopeError)
    expect((err as InsufficientScopeError).requiredScopes).toEqual(['read:things', 'admin'])
    expect((err as InsufficientScopeError).status).toBe(403)
  })

  it('is checked on every call, also when the token comes from the cache', async () => {
    const verifier = verifierFor()
    const token = await mintToken(keys.ES256!)
    await verifier.verify(token)
    await expect(verifier.verify(token, { requiredScopes: ['admin'] })).rejects.toThrow(
      InsufficientScopeError,
    )
  })
})

describe('the claims rules', () => {
  it('requires the claims named in requiredClaims', async () => {
    const verifier = verifierFor({ requiredClaims: ['jti', 'sub'] })
    await expect(
      verifier.verify(await mintToken(keys.ES256!, accessTokenClaims({ sub: undefined }))),
    ).rejects.toThrow(/"sub"/)
  })

  it.each([
    ['no client_id', { client_id: undefined }, /client_id/],
    ['an empty client_id', { client_id: '' }, /client_id/],
    ['a scope that is not a string', { scope: ['a', 'b'] }, /scope/],
    ['exp that is not a number', { exp: '9999999999' }, /exp/],
    ['an aud of another resource', { aud: ['https://other.example'] }, /audience/],
  ])('refuses a token with %s', async (_name, overrides, message) => {
    const verifier = verifierFor()
    await expect(verifier.verify(await mintToken(keys.ES256!, accessTokenClaims(overrides)))).rejects.toThrow(
      message,
    )
  })
})

describe('the verified-token cache', () => {
  it('answers a token seen before without checking it again', async () => {
    const verifier = verifierFor()
    const token = await mintToken(keys.ES256!)
    const first = await verifier.verify(token)
    expect(await verifier.verify(token)).toBe(first)
  })

  it('checks every token in full when turned off', async () => {
    const verifier = verifierFor({ tokenCache: false })
    const token = await mintToken(keys.ES256!)
    const first = await verifier.verify(token)
    const second = await verifier.verify(token)
    expect(second).toEqual(first)
    expect(second).not.toBe(first)
  })

  it('never answers with a token past its exp plus tolerance', async () => {
    let clockMs = Date.now()
    const verifier = verifierFor({ clockToleranceSec: 5, now: () => clockMs })
    const now = Math.floor(clockMs / 1000)
    const token = await mintToken(keys.ES256!, accessTokenClaims({ iat: now, exp: now + 10 }))
    await verifier.verify(token)
    clockMs = (now + 14) * 1000
    await expect(verifier.verify(token)).resolves.toBeDefined()
    clockMs = (now + 15) * 1000
    await expect(verifier.verify(token)).rejects.toThrow(/expired/)
  })

  it('stops reusing a verification after maxTtlMs', async () => {
    let clockMs = Date.now()
    const verifier = verifierFor({ tokenCache: { maxTtlMs: 1000 }, now: () => clockMs })
    const token = await mintToken(keys.ES256!)
    const first = await verifier.verify(token)
    clockMs += 999
    expect(await verifier.verify(token)).toBe(first)
    clockMs += 2
    expect(await verifier.verify(token)).not.toBe(first)
  })

  it('is bounded by maxEntries', async () => {
    const verifier = verifierFor({ tokenCache: { maxEntries: 2 } })
    const tokens = await Promise.all([1, 2, 3].map(() => mintToken(keys.ES256!)))
    const first = await verifier.verify(tokens[0]!)
    await verifier.verify(tokens[1]!)
    await verifier.verify(tokens[2]!)
    expect(await verifier.verify(tokens[0]!)).not.toBe(first)
  })
})

describe('opaque tokens without introspection', () => {
  it('are refused as invalid_token', async () => {
    const verifier = verifierFor()
    await expect(verifier.verify('2YotnFZFEjr1zCsicMWpAA')).rejects.toThrow(
      /not a JWT and no introspection endpoint is configured/,
    )
  })
})

describe('cancellation', () => {
  it('rejects with the signal’s reason while the keys are being fetched', async () => {
    const slow = await startTestIssuer([keys.ES256!.publicJwk])
    slow.setJwksDelay(2000)
    try {
      const verifier = createVerifier({ issuer: ISSUER, audience: AUDIENCE, jwksUri: slow.jwksUri })
      const controller = new AbortController()
      const pending = verifier.verify(await mintToken(keys.ES256!), { signal: controller.signal })
      const reason = new Error('client went away')
      controller.abort(reason)
      await expect(pending).rejects.toBe(reason)
    } finally {
      await slow.close()
    }
  })
})

describe('close()', () => {
  it('makes every later verification, cached token or not, a VerifierClosedError answered as 503', async () => {
    const verifier = verifierFor()
    const token = await mintToken(keys.ES256!)
    const other = await mintToken(keys.ES256!, accessTokenClaims({ jti: 'never-seen' }))
    await verifier.verify(token)
    await verifier.close()
    for (const t of [token, other]) {
      const err = await verifier.verify(t).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(VerifierClosedError)
      expect(err).toBeInstanceOf(OAuthM2MError)
      expect(err).toMatchObject({
        code: 'ERR_VERIFIER_CLOSED',
        status: 503,
        error: 'temporarily_unavailable',
        message: 'the verifier is closed',
      })
    }
  })

  it('publishes the refusal on the rejection channel', async () => {
    const verifier = verifierFor()
    await verifier.close()
    const token = await mintToken(keys.ES256!)
    const events = await rejectionsDuring(() =>
      expect(verifier.verify(token)).rejects.toThrow(VerifierClosedError),
    )
    expect(events).toEqual([
      { code: 'ERR_VERIFIER_CLOSED', error: 'temporarily_unavailable', message: 'the verifier is closed' },
    ])
  })
})

describe('diagnostics', () => {
  it('publishes every rejection without the token', async () => {
    const verifier = verifierFor()
    const token = await mintToken(keys.ES256!, accessTokenClaims({ aud: 'https://elsewhere.example' }))
    const events = await rejectionsDuring(() =>
      expect(verifier.verify(token)).rejects.toThrow(InvalidTokenError),
    )
    expect(events).toEqual([
      { code: 'ERR_INVALID_TOKEN', error: 'invalid_token', message: expect.any(String) },
    ])
    expect(JSON.stringify(events)).not.toContain(token.split('.')[2])
  })
})

describe('per-call options', () => {
  it.each([
    ['null options', null],
    ['a scope string instead of a list', { requiredScopes: 'read:things' }],
    ['a scope list holding a number', { requiredScopes: ['read:things', 1] }],
  ])('refuses %s with a ConfigurationError, cached token or not', async (_name, options) => {
    const verifier = verifierFor()
    const token = await mintToken(keys.ES256!)
    await expect(verifier.verify(token, options as never)).rejects.toThrow(ConfigurationError)
    await verifier.verify(token)
    await expect(verifier.verify(token, options as never)).rejects.toThrow(ConfigurationError)
  })
})

describe('the former name of requiredScopes', () => {
  it('is refused with a ConfigurationError naming the new one, cached token or not', async () => {
    const verifier = verifierFor()
    const token = await mintToken(keys.ES256!)
    const old = { scopes: ['admin'] } as never
    for (let i = 0; i < 2; i++) {
      const err = await verifier.verify(token, old).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(ConfigurationError)
      expect((err as Error).message).toBe('verify: "scopes" is now named "requiredScopes"')
      await verifier.verify(token)
    }
  })

  it('is refused beside requiredScopes too', async () => {
    const verifier = verifierFor()
    const token = await mintToken(keys.ES256!)
    await expect(
      verifier.verify(token, { requiredScopes: ['read:things'], scopes: ['admin'] } as never),
    ).rejects.toThrow(/"scopes" is now named "requiredScopes"/)
  })
})

describe('configuration', () => {
  it.each([
    ['no issuer', { issuer: '' }],
    ['no audience', { audience: [] }],
    ['alg none', { algorithms: ['none'] }],
    ['an HMAC algorithm', { algorithms: ['HS256'] }],
    ['a negative clock tolerance', { clockToleranceSec: -1 }],
    ['an unknown typ policy', { typ: 'loose' }],
    ['a jwksUri that is not a URL', { jwksUri: 'jwks.json' }],
    ['introspection without auth', { introspection: { clientId: 'api' } }],
    ['a zero token cache size', { tokenCache: { maxEntries: 0 } }],
    ['a negative JWKS cooldown', { jwksUri: undefined, jwksCache: { cooldownMs: -1 } }],
    ['a clock that is not a function', { now: 1_700_000_000_000 }],
  ])('refuses %s with a ConfigurationError', (_name, overrides) => {
    expect(() => verifierFor(overrides as Partial<VerifierOptions>)).toThrow(ConfigurationError)
  })
})
